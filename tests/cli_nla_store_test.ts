// End-to-end: the CLI's NLA storage commands (server credentials, RDP security, user passwords sealing the
// NT hash) against a real PostgreSQL database and a throwaway data directory.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { credentialsFor } from "../db/server_credentials.ts";
import { ntHashFor } from "../db/user_nt_hash.ts";
import { listAudit } from "../db/audit.ts";

Deno.test("CLI: server credential add/replace/list/remove, --rdp-security, and user passwords seal the NT hash", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir();
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  try {
    await cli.ok(["server", "add", "win", "10.1.1.1", "--protocols", "rdp"]);
    assert.match(await cli.ok(["server", "show", "win"]), /rdp security\s*│?\s*any/);
    await cli.ok(["server", "edit", "win", "--rdp-security", "nla"]);
    const shown = await cli.json<{ rdp_security: string; id: number }>(["server", "show", "win"]);
    assert.equal(shown.rdp_security, "nla");
    const bad = await cli.run(["server", "edit", "win", "--rdp-security", "kerberos"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /must be nla, tls or any/);
    await cli.ok(["server", "add", "win2", "10.1.1.2", "--protocols", "rdp", "--rdp-security", "tls"]);

    assert.match(
      await cli.ok(
        ["server", "credential", "win", "--user", "CORP\\svc", "--password-stdin"],
        "Vault-pw-1\n",
      ),
      /stored/,
    );
    assert.match(
      await cli.ok(
        ["server", "credential", "win", "--user", "corp\\SVC", "--password-stdin"],
        "Vault-pw-2\n",
      ),
      /replaced/,
    );
    await cli.ok(["server", "credential", "win", "--user", "admin", "--password-stdin"], "Vault-pw-3");
    const list = await cli.json<{ login: string; set_by: string }[]>(["server", "credentials", "win"]);
    assert.deepEqual(list.map((r) => r.login), ["admin", "corp\\SVC"], "the replacing spelling is kept");
    const text = await cli.ok(["server", "credentials", "win"]);
    assert.ok(!text.includes("Vault-pw"), "the list never shows a password");

    // the key was created under the data dir, 0600 in a 0700 directory, and opens what the CLI sealed
    assert.equal((await Deno.stat(join(dataDir, "secret", "appliance.key"))).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dataDir, "secret"))).mode! & 0o777, 0o700);
    const key = await loadApplianceKey(dataDir, { create: false });
    const creds = await credentialsFor(db.sql, key, shown.id, "CORP\\svc");
    assert.ok(creds.ok && creds.credentials[0].password === "Vault-pw-2");

    for (
      const [args, stdin, err] of [
        [["server", "credential", "win", "--password-stdin"], "x", /--user LOGIN is required/],
        [["server", "credential", "win", "--user", "svc"], undefined, /--password-stdin/],
        [
          ["server", "credential", "win", "--user", "a*b", "--password-stdin"],
          "x",
          /not a valid Windows account/,
        ],
        [["server", "credential", "win", "--user", "svc", "--password-stdin"], "", /no password/],
        [["server", "credential", "ghost", "--user", "svc", "--password-stdin"], "x", /not found/],
        [["server", "credential", "win", "--remove", "--user", "nobody"], undefined, /not found/],
      ] as [string[], string | undefined, RegExp][]
    ) {
      const r = await cli.run(args, stdin);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr + r.stdout, err, args.join(" "));
    }
    await cli.ok(["server", "credential", "win", "--remove", "--user", "CORP\\svc"]);
    assert.deepEqual(
      (await cli.json<{ login: string }[]>(["server", "credentials", "win"])).map((r) => r.login),
      ["admin"],
    );
    const audit = [
      ...await listAudit(db.sql, { action: "server.credential_set" }),
      ...await listAudit(db.sql, { action: "server.credential_removed" }),
    ];
    assert.equal(audit.length, 4);
    assert.ok(audit.every((a) => a.actor.startsWith("cli:")));
    assert.ok(!JSON.stringify(audit).includes("Vault-pw"));

    // user passwords from the CLI seal the NT hash
    await cli.ok(["user", "add", "nina", "--source-ip", "10.9.9.9", "--password-stdin"], "Password\n");
    const h = await ntHashFor(db.sql, key, "nina");
    assert.ok(h.ok && Buffer.from(h.ntHash).toString("hex") === "a4f49c406510bdcab6824ee7c30fd852");
    await cli.ok(["user", "edit", "nina", "--password-stdin"], "Other-pw\n");
    const h2 = await ntHashFor(db.sql, key, "nina");
    assert.ok(h2.ok && Buffer.from(h2.ntHash).toString("hex") !== "a4f49c406510bdcab6824ee7c30fd852");
    await cli.ok(["user", "edit", "nina", "--no-password"]);
    assert.equal((await ntHashFor(db.sql, key, "nina") as { reason: string }).reason, "no_password");
  } finally {
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
