// NLA's data at rest against a real PostgreSQL: sealed NT hashes, the credential vault, the throttle.
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { createUser, updateUser } from "./users.ts";
import { ntHashFor } from "./user_nt_hash.ts";
import { createServer } from "./servers.ts";
import { secretKey } from "../core/secret_box.ts";
import { ntHash } from "../policy/nt_hash.ts";
import {
  credentialsFor,
  listServerCredentials,
  removeServerCredential,
  setServerCredential,
} from "./server_credentials.ts";
import { clearNlaUserFailures, nlaBlock, recordNlaFailure } from "./nla_throttle.ts";
import { InputError, NotFoundError } from "./errors.ts";

const key = secretKey(crypto.getRandomValues(new Uint8Array(32)));
const otherKey = secretKey(crypto.getRandomValues(new Uint8Array(32)));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

Deno.test("NT hash: sealed whenever a password is set, gone when it is removed, typed reasons otherwise", async () => {
  const db = await createTestDb();
  try {
    const sql = db.sql;
    await assert.rejects(
      createUser(sql, { name: "nokey", password: "pw-1" }, "test"),
      /appliance key/,
      "a password without the key is refused, not stored without its NT hash",
    );
    const alice = await createUser(sql, { name: "alice", password: "Password" }, "test", { secretKey: key });
    const byName = await ntHashFor(sql, key, "alice");
    assert.ok(byName.ok);
    assert.equal(hex(byName.ntHash), "a4f49c406510bdcab6824ee7c30fd852");
    const byId = await ntHashFor(sql, [otherKey, key], alice.id);
    assert.ok(byId.ok && byId.userName === "alice");

    // the stored value is not the hash in clear
    const [row] = await sql<
      { nt_hash_sealed: string }[]
    >`SELECT nt_hash_sealed FROM users WHERE name = 'alice'`;
    assert.ok(row.nt_hash_sealed.startsWith("sb1.") && !row.nt_hash_sealed.includes("a4f49c40"));

    await updateUser(sql, "alice", { password: "new-pässword" }, "test", { secretKey: key });
    const changed = await ntHashFor(sql, key, "alice");
    assert.ok(changed.ok && hex(changed.ntHash) === hex(ntHash("new-pässword")));
    await assert.rejects(updateUser(sql, "alice", { password: "x2" }, "test"), /appliance key/);

    await updateUser(sql, "alice", { password: null }, "test");
    const removed = await ntHashFor(sql, key, "alice");
    assert.ok(!removed.ok && removed.reason === "no_password");
    const [gone] = await sql`SELECT nt_hash_sealed FROM users WHERE name = 'alice'`;
    assert.equal(gone.nt_hash_sealed, null);

    // a password from before NLA support: hash present, NT hash not
    await createUser(sql, { name: "old", password: "pw-old" }, "test", { secretKey: key });
    await sql`UPDATE users SET nt_hash_sealed = NULL WHERE name = 'old'`;
    const old = await ntHashFor(sql, key, "old");
    assert.ok(!old.ok && old.reason === "set_before_nla" && /change your password/.test(old.detail));

    const none = await ntHashFor(sql, key, "nobody");
    assert.ok(!none.ok && none.reason === "no_user");
    await createUser(sql, { name: "keys-only" }, "test");
    const k = await ntHashFor(sql, key, "keys-only");
    assert.ok(!k.ok && k.reason === "no_password");
    await updateUser(sql, "old", { password: "pw-again", active: false }, "test", { secretKey: key });
    const off = await ntHashFor(sql, key, "old");
    assert.ok(!off.ok && off.reason === "user_inactive");

    // another appliance's key, or a value copied from another user's row, does not open
    await createUser(sql, { name: "bob", password: "pw-bob" }, "test", { secretKey: key });
    assert.equal((await ntHashFor(sql, otherKey, "bob") as { reason: string }).reason, "unreadable");
    await updateUser(sql, "alice", { password: "pw-a" }, "test", { secretKey: key });
    await sql`UPDATE users SET nt_hash_sealed = (SELECT nt_hash_sealed FROM users WHERE name = 'alice')
      WHERE name = 'bob'`;
    assert.equal((await ntHashFor(sql, key, "bob") as { reason: string }).reason, "unreadable");
  } finally {
    await db.close();
  }
});

Deno.test("credential vault: set, replace, list without passwords, look up as Windows does, remove, audit", async () => {
  const db = await createTestDb();
  try {
    const sql = db.sql;
    const win = await createServer(
      sql,
      { name: "win", address: "10.1.1.1", protocols: ["rdp"] },
      "test",
      null,
    );
    const by = { actor: "console:op", sourceIp: "192.0.2.9" };
    assert.deepEqual(await setServerCredential(sql, key, "win", "CORP\\svc", "s3cret-1", by), {
      replaced: false,
    });
    await setServerCredential(sql, key, "win", "local-admin", "s3cret-2", "cli:root");
    // another spelling of the same account replaces it
    assert.deepEqual(await setServerCredential(sql, key, "win", "svc@corp", "s3cret-3", by), {
      replaced: true,
    });
    const list = await listServerCredentials(sql, "win");
    assert.deepEqual(list.map((r) => [r.login, r.set_by]), [["local-admin", "cli:root"], [
      "svc@corp",
      "console:op",
    ]]);
    assert.ok(!JSON.stringify(list).includes("s3cret"));

    const all = await credentialsFor(sql, key, win.id);
    assert.ok(all.ok);
    assert.deepEqual(all.credentials, [
      { login: "local-admin", password: "s3cret-2" },
      { login: "svc@corp", password: "s3cret-3" },
    ]);
    for (const login of ["CORP\\svc", "corp\\SVC", "svc", "SVC@CORP"]) {
      const r = await credentialsFor(sql, key, win.id, login);
      assert.ok(r.ok && r.credentials.length === 1 && r.credentials[0].password === "s3cret-3", login);
    }
    for (const login of ["OTHER\\svc", "nobody", "bad*login"]) {
      const r = await credentialsFor(sql, key, win.id, login);
      assert.ok(r.ok && r.credentials.length === 0, login);
    }
    const wrong = await credentialsFor(sql, otherKey, win.id);
    assert.ok(!wrong.ok && wrong.reason === "unreadable");

    await assert.rejects(setServerCredential(sql, key, "win", "a*b", "x", by), InputError);
    await assert.rejects(setServerCredential(sql, key, "win", "ok", "", by), InputError);
    await assert.rejects(setServerCredential(sql, key, "nope", "ok", "x", by), NotFoundError);
    await assert.rejects(removeServerCredential(sql, "win", "CORP\\nobody", by), NotFoundError);
    await removeServerCredential(sql, "win", "CORP\\SVC", by);
    assert.deepEqual((await listServerCredentials(sql, "win")).map((r) => r.login), ["local-admin"]);

    const audit = await sql<{ action: string; actor: string; source_ip: string | null; details: unknown }[]>`
      SELECT action, actor, host(source_ip) AS source_ip, details FROM audit_log
      WHERE action LIKE 'server.credential%' ORDER BY id`;
    assert.deepEqual(audit.map((a) => [a.action, a.actor, a.source_ip]), [
      ["server.credential_set", "console:op", "192.0.2.9"],
      ["server.credential_set", "cli:root", null],
      ["server.credential_set", "console:op", "192.0.2.9"],
      ["server.credential_removed", "console:op", "192.0.2.9"],
    ]);
    assert.ok(!JSON.stringify(audit).includes("s3cret"), "the audit never holds a password");
    const [stored] = await sql`SELECT string_agg(password_sealed, ' ') AS s FROM server_credentials`;
    assert.ok(!stored.s.includes("s3cret"));
  } finally {
    await db.close();
  }
});

Deno.test("NLA throttle: per user and per source, windowed, a success clears the user only", async () => {
  const db = await createTestDb();
  try {
    const sql = db.sql;
    const rules = {
      user: { windowMs: 60_000, maxFailures: 3, blockMs: 300_000 },
      source: { windowMs: 60_000, maxFailures: 5, blockMs: 600_000 },
    };
    const t0 = new Date("2026-01-01T00:00:00Z");
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const a = { userName: "alice", sourceIp: "192.0.2.1" };
    assert.deepEqual(await recordNlaFailure(sql, a, at(0), rules), []);
    assert.deepEqual(await recordNlaFailure(sql, a, at(1), rules), []);
    // outside the window the count starts again
    assert.deepEqual(await recordNlaFailure(sql, a, at(120), rules), []);
    assert.deepEqual(await recordNlaFailure(sql, a, at(121), rules), []);
    assert.deepEqual(await recordNlaFailure(sql, a, at(122), rules), [{ scope: "user", until: at(422) }]);
    assert.deepEqual(await nlaBlock(sql, a, at(123)), { scope: "user", until: at(422) });
    assert.equal(await nlaBlock(sql, { userName: "bob", sourceIp: "192.0.2.2" }, at(123)), null);
    assert.equal(await nlaBlock(sql, a, at(423)), null, "blocks end");

    // a source guessing several names is blocked as a source
    for (let i = 0; i < 4; i++) {
      await recordNlaFailure(sql, { userName: `u${i}`, sourceIp: "192.0.2.7" }, at(200 + i), rules);
    }
    const started = await recordNlaFailure(sql, { userName: "u9", sourceIp: "192.0.2.7" }, at(205), rules);
    assert.deepEqual(started, [{ scope: "source", until: at(805) }]);
    assert.deepEqual(await nlaBlock(sql, { userName: "carol", sourceIp: "192.0.2.7" }, at(206)), {
      scope: "source",
      until: at(805),
    });
    assert.deepEqual(await nlaBlock(sql, { userName: null, sourceIp: "192.0.2.7" }, at(206)), {
      scope: "source",
      until: at(805),
    });

    await recordNlaFailure(sql, { userName: "dave", sourceIp: "192.0.2.8" }, at(300), rules);
    await recordNlaFailure(sql, { userName: "dave", sourceIp: "192.0.2.8" }, at(301), rules);
    await clearNlaUserFailures(sql, "dave");
    assert.deepEqual(
      await recordNlaFailure(sql, { userName: "dave", sourceIp: "192.0.2.8" }, at(302), rules),
      [],
    );
    const [src] = await sql`SELECT failures FROM nla_throttle WHERE kind = 'source' AND key = '192.0.2.8'`;
    assert.equal(src.failures, 3, "the source keeps counting");
  } finally {
    await db.close();
  }
});
