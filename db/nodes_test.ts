// nodes against the real test database: registration, beats, health inputs, and a lost node declared once
// by racing declarers, its sessions closed as node_lost and its conversion jobs requeued, audited once.
import assert from "node:assert/strict";
import { createTestDb, type TestDb } from "../tests/helpers/test_db.ts";
import { connect } from "./client.ts";
import { addRecording } from "./recordings.ts";
import { enqueueConversion, getConversion } from "./conversions.ts";
import { claimNextConversion } from "./conversions_work.ts";
import {
  beatNode,
  declareLostNodes,
  listNodes,
  markNodeStopped,
  type NodeRegistration,
  registerNode,
  sessionsClosedAsLost,
} from "./nodes.ts";

const reg = (name: string, over: Partial<NodeRegistration> = {}): NodeRegistration => ({
  name,
  bootId: crypto.randomUUID(),
  version: "1.0",
  sshListen: ["127.0.0.11:2222"],
  rdpListen: ["127.0.0.11:3389"],
  webListen: ["127.0.0.11:8080"],
  nodeNow: new Date(),
  ...over,
});

async function openSessionOn(sql: TestDb["sql"], node: string): Promise<{ id: number; sid: string }> {
  const sid = crypto.randomUUID();
  const [s] = await sql<{ id: number }[]>`INSERT INTO sessions (session_id, user_name, server_name, protocol,
      source_ip, node_id) VALUES (${sid}, 'alice', 'web1', 'ssh', '192.0.2.7', ${node}) RETURNING id`;
  return { id: s.id, sid };
}

/** Ages a node's heartbeat by `s` seconds (what a silent node looks like `s` seconds later). */
const age = (sql: TestDb["sql"], name: string, s: number) =>
  sql`UPDATE nodes SET heartbeat_at = now() - make_interval(secs => ${s}) WHERE name = ${name}`;

Deno.test("nodes: register, beat, list, stop; a second start under the same name takes the row over", async () => {
  const db = await createTestDb();
  try {
    const a = reg("a", { nodeNow: new Date(Date.now() + 4_000) });
    assert.equal((await registerNode(db.sql, a)).previous, null);
    let [row] = await listNodes(db.sql);
    assert.equal(row.name, "a");
    assert.equal(row.state, "up");
    assert.deepEqual(row.ssh_listen, ["127.0.0.11:2222"]);
    assert.ok(row.heartbeat_age_ms >= 0 && row.heartbeat_age_ms < 2_000, String(row.heartbeat_age_ms));
    assert.ok(Math.abs(row.clock_skew_ms - 4_000) < 1_000, `skew ${row.clock_skew_ms}`);

    await age(db.sql, "a", 20);
    assert.deepEqual(await beatNode(db.sql, "a", a.bootId, new Date()), { kind: "ok" });
    [row] = await listNodes(db.sql);
    assert.ok(row.heartbeat_age_ms < 2_000);
    assert.ok(Math.abs(row.clock_skew_ms) < 1_000);

    const again = reg("a");
    const { previous } = await registerNode(db.sql, again);
    assert.equal(previous?.boot_id, a.bootId);
    assert.deepEqual(await beatNode(db.sql, "a", a.bootId, new Date()), {
      kind: "replaced",
      bootId: again.bootId,
    });
    assert.deepEqual(await beatNode(db.sql, "zz", a.bootId, new Date()), { kind: "missing" });

    await markNodeStopped(db.sql, "a", a.bootId); // not this start's row: untouched
    assert.equal((await listNodes(db.sql))[0].state, "up");
    await markNodeStopped(db.sql, "a", again.bootId);
    [row] = await listNodes(db.sql);
    assert.equal(row.state, "stopped");
    assert.ok(row.stopped_at);
  } finally {
    await db.close();
  }
});

Deno.test("declareLostNodes: once across racing declarers; sessions node_lost, jobs requeued, one audit row", async () => {
  const db = await createTestDb();
  const other = connect({ url: db.url }, { max: 2 });
  try {
    const a = reg("a");
    await registerNode(db.sql, a);
    await registerNode(db.sql, reg("b"));
    await registerNode(db.sql, reg("c"));
    const s1 = await openSessionOn(db.sql, "a");
    const s2 = await openSessionOn(db.sql, "a");
    const sb = await openSessionOn(db.sql, "b");
    // a conversion job claimed by a's pool, and one pending
    const rec = await addRecording(db.sql, { sessionRowId: s1.id, kind: "rdp", channel: null, path: "/r/1" });
    const rec2 = await addRecording(db.sql, {
      sessionRowId: sb.id,
      kind: "rdp",
      channel: null,
      path: "/r/2",
    });
    const now = new Date();
    const { job } = await enqueueConversion(db.sql, {
      recordingId: rec,
      sourceSize: 10,
      sourceMtime: null,
      rush: false,
      requestedBy: "t",
      now,
    });
    const claimed = await claimNextConversion(db.sql, { node: "a", lock: "slot-a", now });
    assert.equal(claimed?.id, job.id);
    await enqueueConversion(db.sql, {
      recordingId: rec2,
      sourceSize: 10,
      sourceMtime: null,
      rush: false,
      requestedBy: "t",
      now,
    });

    // late but not lost: nothing happens
    await age(db.sql, "a", 20);
    assert.deepEqual(await declareLostNodes(db.sql, "b", 30), []);

    await age(db.sql, "a", 31);
    // b and c race; the row lock makes one of them the declarer
    const [fromB, fromC] = await Promise.all([
      declareLostNodes(db.sql, "b", 30),
      declareLostNodes(other, "c", 30),
    ]);
    const declared = [...fromB, ...fromC];
    assert.equal(declared.length, 1);
    assert.equal(declared[0].name, "a");
    assert.deepEqual([...declared[0].sessions].sort(), [s1.sid, s2.sid].sort());
    assert.deepEqual(declared[0].conversions, [job.id]);
    // and again: nothing more
    assert.deepEqual(await declareLostNodes(db.sql, "b", 30), []);

    const sessions = await db.sql<{ session_id: string; is_active: boolean; termination_reason: string }[]>`
      SELECT session_id, is_active, termination_reason FROM sessions ORDER BY id`;
    assert.deepEqual(
      sessions.map((s) => [s.session_id, s.is_active, s.termination_reason]),
      [[s1.sid, false, "node_lost"], [s2.sid, false, "node_lost"], [sb.sid, true, null]],
    );
    const j = await getConversion(db.sql, job.id);
    assert.equal(j?.state, "pending");
    assert.equal(j?.locked_by, null);
    const audit = await db.sql<{ actor: string; target: string; details: { sessions: string[] } }[]>`
      SELECT actor, target, details FROM audit_log WHERE action = 'node.lost'`;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].target, "a");
    assert.equal(audit[0].details.sessions.length, 2);
    const nodes = await listNodes(db.sql);
    assert.deepEqual(nodes.map((n) => [n.name, n.state]), [["a", "lost"], ["b", "up"], ["c", "up"]]);
    assert.ok(["b", "c"].includes(nodes[0].lost_by!));

    // a stopped node is never declared lost, however old its beat
    await markNodeStopped(db.sql, "c", (await listNodes(db.sql))[2].boot_id);
    await age(db.sql, "c", 3600);
    assert.deepEqual(await declareLostNodes(db.sql, "b", 30), []);

    // a comes back: its beat says so, and names the sessions it must end
    const back = await beatNode(db.sql, "a", a.bootId, new Date());
    assert.equal(back.kind, "was_lost");
    if (back.kind !== "was_lost") throw new Error("unreachable");
    assert.deepEqual((await sessionsClosedAsLost(db.sql, "a", back.lostAt)).sort(), [s1.sid, s2.sid].sort());
    assert.equal((await listNodes(db.sql))[0].state, "up");
  } finally {
    await other.end({ timeout: 1 });
    await db.close();
  }
});
