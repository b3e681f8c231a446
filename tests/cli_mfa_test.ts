// End-to-end: the CLI's MFA commands against a real PostgreSQL database and a throwaway data directory:
// user totp --enrol/--reset (secret and recovery codes printed once, pending until the first code, the
// secret sealed with the appliance key), admin totp --reset/--require/--optional, user edit
// --mfa-required, grant --require-mfa, server edit --require-mfa.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { listAudit } from "../db/audit.ts";
import { totpFactorOf, verifySecondFactor } from "../db/totp.ts";
import { findUser } from "../db/users.ts";
import { findConsoleUserByName } from "../db/console_users.ts";
import { totpCode } from "../policy/totp.ts";

Deno.test("CLI: TOTP enrol/reset for end users and console accounts, and where MFA is demanded", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir();
  const cli = cliFor(db.url, { JUMPHOST_DATA_DIR: dataDir });
  try {
    await cli.ok(["user", "add", "alice", "--source-ip", "10.0.0.1"]);
    const e = await cli.json<{ secret: string; uri: string; recovery_codes: string[]; state: string }>([
      "user",
      "totp",
      "alice",
      "--enrol",
    ]);
    assert.match(e.secret, /^[A-Z2-7]{32}$/);
    assert.match(e.uri, /^otpauth:\/\/totp\/jumphost:alice\?/);
    assert.equal(e.recovery_codes.length, 10);
    assert.equal(e.state, "pending");
    const alice = (await findUser(db.sql, "alice"))!;
    assert.equal(alice.totp, "pending");
    const [row] = await db.sql<{ secret_sealed: string }[]>`SELECT secret_sealed FROM totp_factors`;
    assert.ok(!row.secret_sealed.includes(e.secret), "sealed at rest");
    // a second enrolment of an active factor is refused; of a pending one it replaces it
    const owner = { kind: "user" as const, id: alice.id, name: "alice" };
    const key = await loadApplianceKey(dataDir);
    const r = await verifySecondFactor(db.sql, key, owner, totpCode(e.secret, Date.now()), new Date(), {
      allowPending: true,
    });
    assert.ok(r.ok && r.confirmedNow);
    const again = await cli.run(["user", "totp", "alice", "--enrol"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already has an active TOTP factor; reset it first/);
    assert.match(await cli.ok(["user", "show", "alice"]), /TOTP\s*│?\s*active/);
    assert.match(await cli.ok(["user", "totp", "alice", "--reset"]), /removed/);
    assert.equal(await totpFactorOf(db.sql, owner), null);
    assert.equal((await listAudit(db.sql, { action: "mfa.totp_reset" })).length, 1);
    const text = await cli.ok(["user", "totp", "alice", "--enrol"]);
    assert.match(text, /pending until the first correct code/);
    assert.match(text, /secret: {2}[A-Z2-7]{32}/);
    assert.equal((text.match(/^ {2}[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/gm) ?? []).length, 10);
    const usage = await cli.run(["user", "totp", "alice", "--enrol", "--reset"]);
    assert.notEqual(usage.code, 0);

    await cli.ok(["user", "edit", "alice", "--mfa-required"]);
    assert.equal((await findUser(db.sql, "alice"))!.mfa_required, true);
    await cli.ok(["server", "add", "web1", "10.1.1.1"]);
    await cli.ok(["server", "edit", "web1", "--require-mfa", "--password-passthrough", "off"]);
    const s = await cli.json<{ require_mfa: boolean; password_passthrough: boolean }>([
      "server",
      "show",
      "web1",
    ]);
    assert.deepEqual([s.require_mfa, s.password_passthrough], [true, false]);
    const g = await cli.json<{ require_mfa: boolean }>([
      "grant",
      "alice",
      "--server",
      "web1",
      "--duration",
      "60",
      "--require-mfa",
    ]);
    assert.equal(g.require_mfa, true);

    await cli.ok(["admin", "add", "root"]);
    await cli.ok(["admin", "totp", "root", "--require"]);
    assert.equal((await findConsoleUserByName(db.sql, "root"))!.mfa_required, true);
    await cli.ok(["admin", "totp", "root", "--optional"]);
    assert.equal((await findConsoleUserByName(db.sql, "root"))!.mfa_required, false);
    assert.match(await cli.ok(["admin", "totp", "root", "--reset"]), /had no TOTP factor/);
    const missing = await cli.run(["admin", "totp", "nobody", "--reset"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found/);
  } finally {
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
