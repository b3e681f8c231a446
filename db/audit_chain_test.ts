// The audit hash chain against the real database: the trigger's bytes equal the documented encoding,
// concurrent writers still form one line, and verification names edited, deleted, reordered and
// truncated rows and a rewritten history (caught by a signed checkpoint, checked with openssl too).
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestDb, type TestDb } from "../tests/helpers/test_db.ts";
import { runTool } from "../tests/helpers/tools.ts";
import { connect, type Sql } from "./client.ts";
import { loadMigrations } from "./migrate.ts";
import { writeAudit } from "./audit.ts";
import { chainHead, chainRowsAfter, latestCheckpoint } from "./audit_chain.ts";
import { auditRowHash, encodeAuditRow, sameBytes, toHex } from "./audit_chain_encoding.ts";
import { verifyAuditChain } from "./audit_verify.ts";
import { writeCheckpoint } from "./audit_checkpoint.ts";
import { loadSigningKey } from "../core/signing_key.ts";
import { TEST_PG_DIR } from "../tests/helpers/test_db.ts";

async function seed(db: TestDb, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await writeAudit(db.sql, {
      actor: i % 2 ? "alice" : "système",
      action: "ssh.session_start",
      target: i % 3 ? `web${i}` : null,
      sourceIp: i % 2 ? "10.0.0.1" : "2001:db8::7",
      success: i % 4 !== 0,
      details: { n: i, nested: { z: [1, 2.5, "x\ny"], a: null }, "é": "\u2028", big: 12345678901234 },
    }, i % 2 ? "node-a" : null);
  }
}

async function withDb(fn: (db: TestDb, dir: string) => Promise<void>): Promise<void> {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir();
  try {
    await fn(db, dir);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("audit chain: the database's canonical bytes are the documented encoding, hashes link", async () => {
  await withDb(async (db) => {
    await seed(db, 12);
    const sqlBytes = await db.sql<{ id: string; b: Uint8Array }[]>`
      SELECT id::text AS id, jumphost_audit_canonical(a) AS b FROM audit_log a ORDER BY a.id`;
    const rows = await chainRowsAfter(db.sql, 0);
    assert.equal(rows.length, 12);
    let prev: Uint8Array = new Uint8Array(32);
    for (const [i, r] of rows.entries()) {
      assert.equal(toHex(encodeAuditRow(r)), toHex(new Uint8Array(sqlBytes[i].b)), `row ${r.id}`);
      assert.ok(sameBytes(auditRowHash(r), r.hash), `row ${r.id} hash`);
      assert.ok(sameBytes(r.prevHash, prev), `row ${r.id} link`);
      prev = r.hash;
    }
    const head = await chainHead(db.sql);
    assert.equal(head.lastId, rows[11].id);
    assert.ok(sameBytes(head.hash, rows[11].hash));
  });
});

Deno.test("audit chain: concurrent writers (4 connections, transactions) form one verified line", async () => {
  await withDb(async (db) => {
    const pools = Array.from(
      { length: 4 },
      () => connect({ socketDir: TEST_PG_DIR, database: db.name }, { max: 2 }),
    );
    try {
      await Promise.all(
        pools.flatMap((sql, p) =>
          Array.from({ length: 50 }, (_, i) =>
            i % 5 === 0
              ? sql.begin(async (tx) => {
                await writeAudit(tx, {
                  actor: `p${p}`,
                  action: "user.create",
                  success: true,
                  details: { i },
                });
                await writeAudit(tx, {
                  actor: `p${p}`,
                  action: "user.update",
                  success: true,
                  details: { i },
                });
              })
              : writeAudit(sql, { actor: `p${p}`, action: "user.create", success: true, details: { i } }))
        ),
      );
      // one statement writing many rows (bulk) alongside
      await pools[2]`INSERT INTO audit_log (actor, action, success, details)
        SELECT 'bulk', 'user.create', true, jsonb_build_object('g', g) FROM generate_series(1, 300) g`;
      // a spooled event replayed twice is written once and does not move the head
      const id = crypto.randomUUID();
      await writeAudit(pools[0], { id, actor: "x", action: "user.create", success: true });
      await writeAudit(pools[1], { id, actor: "x", action: "user.create", success: true });
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    const key = await loadSigningKey(await Deno.makeTempDir());
    const r = await verifyAuditChain(db.sql, { trusted: [key.publicKey] });
    assert.deepEqual(r.problems, []);
    assert.equal(r.rows, 4 * (40 + 20) + 300 + 1);
    assert.ok(r.ok);
  });
});

Deno.test("audit chain: an edited, deleted, reordered row and a truncated end are each named", async () => {
  await withDb(async (db, dir) => {
    const key = await loadSigningKey(dir);
    const trusted = [key.publicKey];
    await seed(db, 10);
    const ids = (await chainRowsAfter(db.sql, 0)).map((r) => Number(r.id));
    const check = async () => await verifyAuditChain(db.sql, { trusted });
    assert.ok((await check()).ok);

    // edited: one field of row 3
    await db.sql`UPDATE audit_log SET details = details || '{"n": 99}' WHERE id = ${ids[2]}`;
    let r = await check();
    assert.deepEqual(r.problems.map((p) => [p.kind, p.rowId]), [["edited", String(ids[2])]]);
    assert.match(r.problems[0].message, new RegExp(`row ${ids[2]} .* was edited`));
    await db.sql`UPDATE audit_log SET details = details || '{"n": 2}' WHERE id = ${ids[2]}`;
    assert.ok((await check()).ok, "restored");

    // reordered: rows 5 and 6 swap places
    await db.sql`UPDATE audit_log SET id = -1 WHERE id = ${ids[4]}`;
    await db.sql`UPDATE audit_log SET id = ${ids[4]} WHERE id = ${ids[5]}`;
    await db.sql`UPDATE audit_log SET id = ${ids[5]} WHERE id = -1`;
    r = await check();
    assert.deepEqual(r.problems.map((p) => [p.kind, p.rowId]), [
      ["reordered", String(ids[4])],
      ["reordered", String(ids[5])],
    ]);
    assert.match(
      r.problems[0].message,
      new RegExp(`row ${ids[4]} is out of order: it was written as row ${ids[5]} `),
    );
    assert.match(
      r.problems[1].message,
      new RegExp(`row ${ids[5]} is out of order: it was written as row ${ids[4]} `),
    );
    await db.sql`UPDATE audit_log SET id = -1 WHERE id = ${ids[4]}`;
    await db.sql`UPDATE audit_log SET id = ${ids[4]} WHERE id = ${ids[5]}`;
    await db.sql`UPDATE audit_log SET id = ${ids[5]} WHERE id = -1`;
    assert.ok((await check()).ok, "restored");

    // deleted: row 8
    await db.sql`DELETE FROM audit_log WHERE id = ${ids[7]}`;
    r = await check();
    assert.deepEqual(r.problems.map((p) => [p.kind, p.rowId]), [["deleted", String(ids[8])]]);
    assert.match(r.problems[0].message, new RegExp(`missing between row ${ids[6]} and row ${ids[8]}`));

    // truncated: the last row goes too; the head still names it
    await db.sql`DELETE FROM audit_log WHERE id = ${ids[9]}`;
    r = await check();
    assert.ok(
      r.problems.some((p) => p.kind === "truncated" && p.rowId === String(ids[9])),
      JSON.stringify(r),
    );
    // --since: only rows from the 3rd on (and their link to the 2nd) are read
    const [{ at }] = await db.sql<{ at: Date }[]>`SELECT at FROM audit_log WHERE id = ${ids[2]}`;
    r = await verifyAuditChain(db.sql, { trusted, since: at });
    const [{ first, n }] = await db.sql<{ first: string; n: number }[]>`
      SELECT min(id)::text AS first, count(*)::int AS n FROM audit_log WHERE at >= ${at}`;
    assert.equal(r.firstId, first);
    assert.equal(r.rows, n);
    assert.ok(n < 10 && Number(first) <= ids[2]);
  });
});

Deno.test("audit chain: a history recomputed after an edit is caught by the signed checkpoint", async () => {
  await withDb(async (db, dir) => {
    const key = await loadSigningKey(dir);
    await seed(db, 6);
    const cpId = await writeCheckpoint(db.sql, key, "node-a");
    assert.ok(cpId);
    assert.equal(await writeCheckpoint(db.sql, key, "node-a"), null, "head unchanged: no new checkpoint");
    const cp = (await latestCheckpoint(db.sql))!;
    // the checkpoint's statement and signature check with openssl alone
    await Deno.writeTextFile(join(dir, "cp.txt"), cp.statement);
    await Deno.writeFile(join(dir, "cp.sig"), cp.signature);
    await Deno.writeTextFile(join(dir, "pub.pem"), key.publicKey.pem);
    const ok = await runTool("openssl", [
      "pkeyutl",
      "-verify",
      "-pubin",
      "-inkey",
      join(dir, "pub.pem"),
      "-rawin",
      "-in",
      join(dir, "cp.txt"),
      "-sigfile",
      join(dir, "cp.sig"),
    ]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(cp.statement, new RegExp(`last_id ${cp.lastId}\nlast_hash ${toHex(cp.lastHash)}\n$`));

    // an attacker edits row 2 and recomputes every later hash and the head
    const [{ id }] = await db.sql<
      { id: string }[]
    >`SELECT id::text AS id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1`;
    await db.sql`UPDATE audit_log SET actor = 'mallory' WHERE id = ${id}`;
    await db.sql.unsafe(`DO $$ DECLARE r audit_log; h bytea := decode(repeat('00', 32), 'hex'); BEGIN
      FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        r.prev_hash := h; h := sha256(jumphost_audit_canonical(r));
        UPDATE audit_log SET prev_hash = r.prev_hash, hash = h WHERE id = r.id;
        UPDATE audit_chain_head SET last_id = r.id, hash = h;
      END LOOP; END $$`);
    const r = await verifyAuditChain(db.sql, { trusted: [key.publicKey] });
    assert.deepEqual(r.problems.map((p) => [p.kind, p.checkpointId]), [["checkpoint", cpId]]);
    assert.match(r.problems[0].message, /history rewritten/);

    // a forged checkpoint (signed by another key) is not trusted
    const other = await loadSigningKey(await Deno.makeTempDir());
    await writeCheckpoint(db.sql, other, "node-x", { force: true });
    const r2 = await verifyAuditChain(db.sql, { trusted: [key.publicKey] });
    assert.ok(r2.problems.some((p) => p.kind === "checkpoint" && /not trusted/.test(p.message)));
    // … and counts once its key is trusted (another node sharing the database)
    const r3 = await verifyAuditChain(db.sql, { trusted: [key.publicKey, other.publicKey] });
    assert.ok(!r3.problems.some((p) => /not trusted/.test(p.message)));
  });
});

Deno.test("audit chain: a deleted last row is noticed by the row written after it", async () => {
  await withDb(async (db, dir) => {
    const key = await loadSigningKey(dir);
    await seed(db, 4);
    const [{ id }] = await db.sql<{ id: string }[]>`SELECT max(id)::text AS id FROM audit_log`;
    await db.sql`DELETE FROM audit_log WHERE id = ${id}`;
    await writeAudit(db.sql, { actor: "admin", action: "user.create", success: true });
    const r = await verifyAuditChain(db.sql, { trusted: [key.publicKey] });
    assert.deepEqual(r.problems.map((p) => p.kind), ["deleted"]);
    assert.match(r.problems[0].message, /rows are missing between row \d+ and row \d+/);
  });
});

Deno.test("audit chain: migration 013 chains the rows written before it, in id order", async () => {
  await withDb(async (db) => {
    const migrations = await loadMigrations();
    // an installation as it was before 013, in a schema of its own, with rows in it
    await db.sql.unsafe("CREATE SCHEMA pre");
    await db.sql.begin(async (tx) => {
      await tx.unsafe("SET LOCAL search_path = pre");
      for (const m of migrations.filter((m) => m.version < 13)) await tx.unsafe(m.sql);
      await tx.unsafe(`INSERT INTO audit_log (at, actor, action, target, success, details)
        SELECT now() - g * interval '1 minute', 'old', 'user.create', 'u' || g, g % 2 = 0,
               jsonb_build_object('g', g) FROM generate_series(1, 50) g`);
      for (const m of migrations.filter((m) => m.version === 13)) await tx.unsafe(m.sql);
      await tx.unsafe(`INSERT INTO audit_log (actor, action, success) VALUES ('new', 'user.create', true)`);
      const rows = await chainRowsAfter(tx as unknown as Sql, 0, 1000);
      assert.equal(rows.length, 51);
      let prev: Uint8Array = new Uint8Array(32);
      for (const r of rows) {
        assert.ok(sameBytes(r.prevHash, prev) && sameBytes(auditRowHash(r), r.hash), `row ${r.id}`);
        prev = r.hash;
      }
      const [head] = await tx.unsafe(`SELECT last_id FROM audit_chain_head`);
      assert.equal(String(head.last_id), rows[50].id);
    });
  });
});
