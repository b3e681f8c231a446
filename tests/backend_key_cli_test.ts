// End-to-end: `jumphost server backend-key` against a real PostgreSQL database, checked with the real
// OpenSSH tools: a generated key logs in to a real sshd, imported keys keep their ssh-keygen fingerprint.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { makeKey, startSshd } from "./helpers/sshd.ts";
import { runCmd } from "./helpers/ssh_clients.ts";

interface Audit {
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

const NOBODY = 65534;

Deno.test("CLI server backend-key: generate, show, import, replace, remove; audited, 0600", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-bkey-data-" });
  const keysDir = await Deno.makeTempDir({ prefix: "jh-bkey-src-" });
  const sshd = await startSshd();
  // as installed: the data directory belongs to the service user, while the admin runs the CLI as root
  const asRoot = Deno.uid() === 0;
  if (asRoot) await Deno.chown(dataDir, NOBODY, NOBODY);
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  const keyFile = join(dataDir, "ssh", "backend_keys", "web1");
  const audits = async () =>
    await db.sql<Audit[]>`SELECT actor, action, target, details FROM audit_log
      WHERE action LIKE 'server.backend_key%' ORDER BY id`;
  try {
    await cli.ok(["server", "add", "web1", sshd.host, "--ssh-port", String(sshd.port)]);

    const none = await cli.run(["server", "backend-key", "web1", "--show-public"]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr.trim(), "jumphost: server web1 has no backend key (create one with --generate)");

    // generate: the printed line is what sshd needs; the file is 0600 in a 0700 directory
    const gen = await cli.ok(["server", "backend-key", "web1", "--generate"]);
    const pub = gen.trim().split("\n").at(-1)!;
    assert.match(pub, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ jumphost@web1$/);
    assert.match(gen, /authorized_keys on web1/);
    const st = await Deno.stat(keyFile);
    assert.equal(st.mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dataDir, "ssh", "backend_keys"))).mode! & 0o777, 0o700);
    if (asRoot) assert.deepEqual([st.uid, st.gid], [NOBODY, NOBODY], "owned like the data directory");
    assert.equal((await cli.ok(["server", "backend-key", "web1", "--show-public"])).trim(), pub);
    const shown = await cli.json<{ backend_key: { type: string; fingerprint: string } }>([
      "server",
      "show",
      "web1",
    ]);
    assert.equal(shown.backend_key.type, "ssh-ed25519");
    const showLine = (await cli.ok(["server", "show", "web1"])).split("\n").find((l) =>
      l.startsWith("backend key")
    );
    assert.equal(showLine?.replace(/ +/g, " "), `backend key ssh-ed25519 ${shown.backend_key.fingerprint}`);

    // the real sshd accepts the generated key
    await Deno.writeTextFile(join(sshd.dir, "authorized", sshd.user), pub + "\n", { append: true });
    const login = await runCmd("ssh", [
      ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"],
      ...["-o", "IdentitiesOnly=yes", "-i", keyFile, "-p", String(sshd.port)],
      `${sshd.user}@${sshd.host}`,
      "echo backend-key-ok",
    ]);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "backend-key-ok\n");

    // an existing key is only replaced with --force
    const again = await cli.run(["server", "backend-key", "web1", "--generate"]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^jumphost: server web1 already has a backend key \(use --force to replace it\)$/m,
    );
    assert.equal((await cli.ok(["server", "backend-key", "web1", "--show-public"])).trim(), pub);

    // import an ssh-keygen key (RSA, PEM) from a file, then an ed25519 one from stdin: fingerprints as ssh-keygen
    const rsa = join(keysDir, "rsa");
    const mk = await runCmd("ssh-keygen", [
      "-q",
      "-t",
      "rsa",
      "-b",
      "2048",
      "-m",
      "PEM",
      "-N",
      "",
      "-f",
      rsa,
    ]);
    assert.equal(mk.code, 0, mk.stderr);
    const fp = async (pubFile: string) => (await runCmd("ssh-keygen", ["-lf", pubFile])).stdout.split(" ")[1];
    const imported = await cli.json<{ type: string; fingerprint: string; public_key: string }>(
      ["server", "backend-key", "web1", "--import", rsa, "--force"],
    );
    assert.equal(imported.type, "ssh-rsa");
    assert.equal(imported.fingerprint, await fp(rsa + ".pub"));
    const ed = await makeKey(keysDir, "ed");
    const fromStdin = await cli.ok(
      ["server", "backend-key", "web1", "--import", "-", "--force", "--json"],
      await Deno.readTextFile(ed.path),
    );
    assert.equal(JSON.parse(fromStdin).fingerprint, await fp(ed.path + ".pub"));
    assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);

    // bad input: one clear line, the stored key untouched
    const enc = join(keysDir, "enc");
    await runCmd("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret-pass", "-f", enc]);
    const cases: [string[], number, RegExp][] = [
      [["--import", enc, "--force"], 1, /encrypted with a passphrase/],
      [["--import", enc + ".pub", "--force"], 1, /a public key was given/],
      [["--import", join(keysDir, "missing"), "--force"], 1, /cannot read .*missing/],
      [[], 2, /say what to do/],
      [["--generate", "--remove"], 2, /say what to do/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli.run(["server", "backend-key", "web1", ...args]);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.split("\n")[0], message);
    }
    const unknown = await cli.run(["server", "backend-key", "nosuch", "--generate"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim().split("\n").length, 1, unknown.stderr);
    assert.match(unknown.stderr, /nosuch/);
    await assert.rejects(Deno.stat(join(dataDir, "ssh", "backend_keys", "nosuch")), Deno.errors.NotFound);
    assert.equal(
      JSON.parse(await cli.ok(["server", "backend-key", "web1", "--show-public", "--json"])).fingerprint,
      await fp(ed.path + ".pub"),
    );

    // remove, then removing again says there is nothing
    assert.match(
      await cli.ok(["server", "backend-key", "web1", "--remove"]),
      /backend key for web1 removed \(SHA256:/,
    );
    await assert.rejects(Deno.stat(keyFile), Deno.errors.NotFound);
    assert.equal((await cli.json<{ backend_key: unknown }>(["server", "show", "web1"])).backend_key, null);
    // a file that is not a key (written by hand) is reported, not fatal
    await Deno.writeTextFile(keyFile, "garbage\n", { mode: 0o600 });
    assert.match(await cli.ok(["server", "show", "web1"]), /backend key +unusable: not a usable private key/);
    await Deno.remove(keyFile);
    const twice = await cli.run(["server", "backend-key", "web1", "--remove"]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /server web1 has no backend key/);

    // every change is audited with fingerprints, never the key itself
    const rows = await audits();
    assert.deepEqual(rows.map((r) => [r.action, r.details.how ?? null]), [
      ["server.backend_key_set", "generated"],
      ["server.backend_key_set", "imported"],
      ["server.backend_key_set", "imported"],
      ["server.backend_key_removed", null],
    ]);
    assert.ok(rows.every((r) => r.target === "web1" && r.actor.startsWith("cli:")));
    assert.equal(rows[1].details.replaced, rows[0].details.fingerprint);
    assert.equal(rows[2].details.fingerprint, await fp(ed.path + ".pub"));
    assert.equal(rows[3].details.fingerprint, rows[2].details.fingerprint);
    assert.doesNotMatch(JSON.stringify(rows), /PRIVATE KEY/);

    // deleting the server removes its key: a new server under that name must not inherit it
    await cli.ok(["server", "backend-key", "web1", "--generate"]);
    const deleted = await cli.ok(["server", "delete", "web1"]);
    assert.match(deleted, /server web1 deleted \(backend key SHA256:\S+ removed\)/);
    await assert.rejects(Deno.stat(keyFile), Deno.errors.NotFound);
    const last = (await audits()).at(-1)!;
    assert.equal(last.action, "server.backend_key_removed");
    assert.equal(last.details.reason, "server deleted");
  } finally {
    await sshd.stop();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(keysDir, { recursive: true });
  }
});
