/// <reference lib="deno.unstable" />
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { advanceCursor, forwardsRow, newCursor, startAuditForwarder } from "./audit_forwarder.ts";
import { createLogger } from "../core/log.ts";
import { createTestDb, type TestDb } from "../tests/helpers/test_db.ts";
import { writeAudit } from "../db/audit.ts";

const quiet = createLogger("error", "test", () => {});

Deno.test("advanceCursor() moves over handled ids, waits at a hole, and passes it after the grace time", () => {
  const cases: { name: string; low: number; handled: number[]; expect: number }[] = [
    { name: "contiguous", low: 10, handled: [11, 12, 13], expect: 13 },
    { name: "hole at 12", low: 10, handled: [11, 13], expect: 11 },
    { name: "nothing new", low: 10, handled: [], expect: 10 },
    { name: "ids at or below low are ignored", low: 10, handled: [9, 10], expect: 10 },
  ];
  for (const c of cases) {
    assert.equal(advanceCursor(newCursor(c.low), c.handled, 0, 1000).low, c.expect, c.name);
  }

  let cur = advanceCursor(newCursor(10), [11, 13, 15], 0, 1000);
  assert.equal(cur.low, 11);
  assert.deepEqual([...cur.seen].sort(), [13, 15]);
  assert.deepEqual([...cur.missingSince.keys()].sort(), [12, 14]);
  // 12 commits late and is handled; 14 never comes (rolled back)
  cur = advanceCursor(cur, [12], 500, 1000);
  assert.equal(cur.low, 13);
  cur = advanceCursor(cur, [], 999, 1000);
  assert.equal(cur.low, 13);
  cur = advanceCursor(cur, [], 1000, 1000);
  assert.equal(cur.low, 15);
  assert.equal(cur.seen.size, 0);
  assert.equal(cur.missingSince.size, 0);
});

Deno.test("forwardsRow() takes this node's events and node-less ones", () => {
  assert.equal(forwardsRow({ node_id: "a" }, "a"), true);
  assert.equal(forwardsRow({ node_id: null }, "a"), true);
  assert.equal(forwardsRow({ node_id: "b" }, "a"), false);
});

async function udpCollector() {
  const socket = dgram.createSocket("udp4");
  const got: string[] = [];
  socket.on("message", (m) => got.push(new TextDecoder().decode(m)));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  return { port: socket.address().port, got, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function withDb(fn: (db: TestDb, dataDir: string) => Promise<void>) {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-fwd-" });
  try {
    await fn(db, dataDir);
  } finally {
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("audit forwarder sends committed events over UDP, skips rolled-back ones, and keeps its cursor", async () => {
  await withDb(async (db, dataDir) => {
    await writeAudit(db.sql, { actor: "old", action: "user.create", success: true }, null); // history: not sent
    const col = await udpCollector();
    const config = { syslog: `udp://127.0.0.1:${col.port}`, dataDir, nodeId: "n1" };
    const fwd = await startAuditForwarder({ sql: db.sql, config, log: quiet, pollMs: 50, graceMs: 300 });
    try {
      await writeAudit(db.sql, {
        actor: "alice",
        action: "ssh.access_denied",
        target: "web1",
        sourceIp: "127.0.0.9",
        success: false,
        details: { reason: "no_policy" },
      }, "n1");
      await writeAudit(db.sql, { actor: "bob", action: "user.create", success: true }, "other-node");
      // a transaction that rolls back after writing an audit row: never forwarded
      await db.sql.begin(async (tx) => {
        await writeAudit(tx, { actor: "ghost", action: "user.delete", success: true }, null);
        throw new Error("rollback");
      }).catch(() => {});
      await writeAudit(
        db.sql,
        { actor: "cli:root", action: "server.create", target: "db1", success: true },
        null,
      );
      await until(() => col.got.length >= 2);
      await fwd.drained();
      await fwd.drained();
      assert.equal(col.got.length, 2);
      assert.match(
        col.got[0],
        /^<84>1 \S+Z n1 jumphost \d+ ssh\.access_denied \[jumphost@32473 id="\d+" actor="alice" success="false" target="web1" src="127\.0\.0\.9" node="n1"\] \ufeff/,
      );
      assert.match(col.got[0], /\{"reason":"no_policy"\}$/);
      assert.match(col.got[1], /^<86>1 .* server\.create .*actor="cli:root"/);
      assert.ok(!col.got.some((m) => /ghost|old|bob/.test(m)));
      // the hole left by the rollback is passed after the grace time and the cursor saved
      const max = (await db.sql<{ id: number }[]>`SELECT max(id)::int AS id FROM audit_log`)[0].id;
      await until(() => Number(Deno.readTextFileSync(`${dataDir}/syslog.cursor`)) === max, 5000);
    } finally {
      await fwd.stop();
      await col.close();
    }
    // restarted: resumes from the saved cursor, so an event written while it was down is delivered
    await writeAudit(db.sql, { actor: "carol", action: "user.create", success: true }, null);
    const col2 = await udpCollector();
    const fwd2 = await startAuditForwarder({
      sql: db.sql,
      config: { ...config, syslog: `udp://127.0.0.1:${col2.port}` },
      log: quiet,
      pollMs: 50,
    });
    try {
      await until(() => col2.got.length >= 1);
      assert.match(col2.got[0], /actor="carol"/);
    } finally {
      await fwd2.stop();
      await col2.close();
    }
  });
});

Deno.test("audit forwarder delivers over a unix datagram socket and over TCP with octet counting", async () => {
  await withDb(async (db, dataDir) => {
    const dir = await Deno.makeTempDir({ prefix: "jh-log-" });
    const unix = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/log` });
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const tcpText: string[] = [];
    const tcpDone = (async () => {
      const conn = await tcp.accept();
      for await (const chunk of conn.readable) tcpText.push(new TextDecoder().decode(chunk));
    })();
    const f1 = await startAuditForwarder({
      sql: db.sql,
      config: { syslog: `unix://${dir}/log`, dataDir, nodeId: "n1" },
      log: quiet,
      pollMs: 50,
    });
    const dataDir2 = `${dataDir}/b`;
    Deno.mkdirSync(dataDir2);
    const f2 = await startAuditForwarder({
      sql: db.sql,
      config: { syslog: `tcp://127.0.0.1:${tcp.addr.port}`, dataDir: dataDir2, nodeId: "n1" },
      log: quiet,
      pollMs: 50,
    });
    try {
      await writeAudit(
        db.sql,
        { actor: "dora", action: "policy.create", success: true, details: { x: "é" } },
        "n1",
      );
      const [msg] = await unix.receive();
      assert.match(
        new TextDecoder().decode(msg),
        /^<86>1 .* policy\.create \[jumphost@32473 .*actor="dora".*\] \ufeff.*\{"x":"é"\}$/,
      );
      await until(() => tcpText.join("").length > 0);
      await f2.drained();
      const framed = tcpText.join("");
      const m = /^(\d+) (.*)$/s.exec(framed);
      assert.ok(m, framed);
      assert.equal(Number(m[1]), new TextEncoder().encode(m[2]).length);
      assert.match(m[2], /policy\.create/);
    } finally {
      await f1.stop();
      await f2.stop();
      unix.close();
      tcp.close();
      await tcpDone;
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("audit forwarder keeps events while the collector is down and delivers them when it is back", async () => {
  await withDb(async (db, dataDir) => {
    // a TCP port with nobody listening: sends fail, errors are counted once per attempt, nothing is lost
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    let errors = 0;
    const fwd = await startAuditForwarder({
      sql: db.sql,
      config: { syslog: `tcp://127.0.0.1:${port}`, dataDir, nodeId: "n1" },
      log: quiet,
      pollMs: 50,
      onSendError: () => errors++,
    });
    try {
      await writeAudit(db.sql, { actor: "erin", action: "user.create", success: true }, "n1");
      await until(() => errors >= 2);
      const tcp = Deno.listen({ hostname: "127.0.0.1", port });
      try {
        const conn = await tcp.accept();
        const reader = conn.readable.getReader();
        const { value } = await reader.read();
        assert.match(new TextDecoder().decode(value), /actor="erin"/);
        await reader.cancel();
      } finally {
        tcp.close();
      }
    } finally {
      await fwd.stop();
    }
  });
});
