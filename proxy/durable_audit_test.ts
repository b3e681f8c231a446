// The spool and its replay against a real PostgreSQL: rows keep their event time, come in order, survive a
// "crash" (a new DurableAudit on the same spool file) and are written once even when a replay runs twice.
// The outage is the writer refusing (the real outage, in serve, is covered by tests/ssh_faults_test.ts).
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { writeAudit } from "../db/audit.ts";
import { isRejectedByDatabase } from "../db/errors.ts";
import type { AuditEvent } from "../db/audit_events.ts";
import { AuditSpool, decodeSpooled, encodeSpooled } from "./audit_spool.ts";
import { DurableAudit, stampEvent } from "./durable_audit.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const ev = (i: number): AuditEvent => ({
  actor: "alice",
  action: "ssh.access_denied",
  target: "web1",
  sourceIp: "10.0.0.1",
  success: false,
  details: { i },
});

Deno.test("spool lines: round trip, damaged line skipped, torn tail not read", () => {
  const e = stampEvent(ev(1));
  const text = encodeSpooled(e) + "{not json\n" + encodeSpooled(stampEvent(ev(2))) + '{"actor":"al';
  const bad: string[] = [];
  const out = decodeSpooled(text, (l) => bad.push(l));
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], e);
  assert.equal(out[1].details?.i, 2);
  assert.deepEqual(bad, ["{not json"]);
});

Deno.test("spool file: 0600 in a 0700 dir, bounded, torn tail cut at open", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const s = AuditSpool.open(`${dir}/spool`, "t", 400);
    assert.equal(Deno.statSync(`${dir}/spool`).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(s.path).mode! & 0o777, 0o600);
    assert.equal(s.append(stampEvent(ev(1))), true);
    assert.equal(s.append(stampEvent(ev(2))), true);
    assert.equal(s.append(stampEvent(ev(3))), false, "beyond the bound");
    s.close();
    Deno.writeTextFileSync(s.path, '{"actor":"torn', { append: true });
    const again = AuditSpool.open(`${dir}/spool`, "t", 400);
    assert.equal(again.readFrom(0).events.length, 2);
    assert.equal(again.size, Deno.statSync(again.path).size);
    again.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DurableAudit: an outage spools in order with event times; a restart replays once, idempotently", async () => {
  const db = await createTestDb();
  const dir = Deno.makeTempDirSync();
  try {
    let down = false;
    const write = (e: AuditEvent) => down ? Promise.reject(new Error("down")) : writeAudit(db.sql, e, "n1");
    const deps = { write, log: quiet, retryMs: 60_000 };
    let spooled = 0;
    const a = new DurableAudit({ ...deps, spool: AuditSpool.open(dir, "audit"), onSpooled: () => spooled++ });
    await a.write(ev(0));
    down = true;
    const times: Date[] = [];
    for (let i = 1; i <= 5; i++) {
      times.push(new Date());
      await a.write(ev(i));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(a.spooling, true);
    assert.equal(spooled, 5);
    // the process dies here: a new writer on the same spool replays it at start
    await a.close();
    down = false;
    const b = new DurableAudit({ ...deps, spool: AuditSpool.open(dir, "audit") });
    assert.equal(b.spooling, true);
    // a replay cut short by a crash wrote some rows already: written again, they are skipped by id
    const spooledEvents = AuditSpool.open(dir, "audit").readFrom(0).events;
    for (const e of spooledEvents.slice(0, 2)) await writeAudit(db.sql, e, "n1");
    assert.equal(await b.replay(), true);
    assert.equal(b.spooling, false);
    assert.equal(Deno.statSync(`${dir}/audit.jsonl`).size, 0);
    await b.close();
    const rows = await db.sql<{ i: number; at: Date }[]>`
      SELECT (details->>'i')::int AS i, at FROM audit_log WHERE actor = 'alice' ORDER BY id`;
    assert.deepEqual(rows.map((r) => r.i), [0, 1, 2, 3, 4, 5]);
    for (let i = 1; i <= 5; i++) {
      // the event time, not the time of the replay
      assert.ok(Math.abs(rows[i].at.getTime() - times[i - 1].getTime()) < 15, `row ${i} keeps its time`);
    }
  } finally {
    await db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DurableAudit: a row the database refuses for its content is logged and dropped, never blocks the spool", async () => {
  const db = await createTestDb();
  const dir = Deno.makeTempDirSync();
  try {
    let down = true;
    const write = (e: AuditEvent) => down ? Promise.reject(new Error("down")) : writeAudit(db.sql, e, "n1");
    const errors: string[] = [];
    const rejected: AuditEvent[] = [];
    const a = new DurableAudit({
      write,
      spool: AuditSpool.open(dir, "audit"),
      log: { ...quiet, error: (m: string) => errors.push(m) },
      retryMs: 60_000,
      isRejected: isRejectedByDatabase,
      onRejected: (e) => rejected.push(e),
    });
    await a.write(ev(1));
    await a.write({ ...ev(2), sourceIp: "not-an-address" }); // invalid inet: SQLSTATE 22P02
    await a.write(ev(3));
    down = false;
    assert.equal(await a.replay(), true);
    assert.deepEqual(rejected.map((e) => e.details?.i), [2]);
    assert.match(errors.join("\n"), /refused an audit row/);
    const rows = await db.sql<{ i: number }[]>`
      SELECT (details->>'i')::int AS i FROM audit_log WHERE actor = 'alice' ORDER BY id`;
    assert.deepEqual(rows.map((r) => r.i), [1, 3]);
    await a.close();
  } finally {
    await db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DurableAudit: a write that hangs is spooled after directTimeoutMs; the late write and the replay make one row", async () => {
  const db = await createTestDb();
  const dir = Deno.makeTempDirSync();
  try {
    const hung = Promise.withResolvers<void>();
    let hang = true;
    const write = async (e: AuditEvent) => {
      if (hang) await hung.promise; // a connection attempt waiting for its timeout …
      await writeAudit(db.sql, e, "n1");
    };
    const a = new DurableAudit({
      write,
      spool: AuditSpool.open(dir, "audit"),
      log: quiet,
      retryMs: 60_000,
      directTimeoutMs: 50,
    });
    await a.write(ev(7));
    assert.equal(a.spooling, true);
    assert.equal(
      AuditSpool.open(dir, "audit").readFrom(0).events.length,
      1,
      "durable before the write ended",
    );
    hang = false;
    hung.resolve(); // … which then goes through after all
    assert.equal(await a.replay(), true);
    await new Promise((r) => setTimeout(r, 50));
    const rows = await db.sql`SELECT 1 FROM audit_log WHERE actor = 'alice'`;
    assert.equal(rows.length, 1);
    await a.close();
  } finally {
    await db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
