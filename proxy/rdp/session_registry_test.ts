import assert from "node:assert/strict";
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import type { AuditEvent } from "../../db/audit_events.ts";
import type { Allow, Server } from "../../policy/mod.ts";
import { type LiveConnection, sessionKey, SessionRegistry } from "./session_registry.ts";

async function setup(windowMs: number) {
  const db = await createTestDb();
  const u = await createUser(db.sql, { name: "alice", sourceIps: [{ cidr: "10.0.0.1/32" }] }, "t");
  const s = await createServer(db.sql, { name: "win", address: "10.1.1.1", protocols: ["rdp"] }, "t", null);
  const audits: AuditEvent[] = [];
  const registry = new SessionRegistry({
    sql: db.sql,
    nodeId: "n1",
    windowMs,
    audit: (e) => audits.push(e),
    log: () => {},
  });
  const server: Server = {
    id: s.id,
    name: "win",
    address: "10.1.1.1",
    sshPort: 22,
    rdpPort: 3389,
    protocols: ["rdp"],
    poolIp: null,
    rdpListenPort: null,
    rdpSecurity: "any",
    passwordPassthrough: true,
    active: true,
    groupIds: [],
  };
  const decision: Allow = {
    allowed: true,
    userId: u.id,
    userName: "alice",
    serverId: s.id,
    serverName: "win",
    policyId: 0,
    policyIds: [],
    logins: [],
    portForwarding: false,
    validUntil: new Date(Date.now() + 3_600_000),
    requireMfa: false,
  };
  const terminated: string[] = [];
  const conn = (): LiveConnection => ({
    sourceIp: "10.0.0.1",
    serverId: s.id,
    cookie: null,
    provenUser: null,
    login: null,
    decision,
    terminate: (r) => void terminated.push(r),
  });
  const req = {
    sourceIp: "10.0.0.1",
    proxyIp: "10.50.0.1",
    server,
    decision: { ...decision, policyId: null as unknown as number },
    ctx: {
      sourceIp: "10.0.0.1",
      sourcePort: 1,
      localAddress: "10.50.0.1",
      localPort: 3389,
      userName: "alice",
    },
  };
  const rows = () =>
    db.sql<
      {
        id: number;
        is_active: boolean;
        termination_reason: string | null;
        ended_at: Date | null;
        metadata: Record<string, unknown>;
      }[]
    >`
      SELECT id, is_active, termination_reason, ended_at, metadata FROM sessions ORDER BY id`;
  return { db, registry, conn, req, rows, audits, terminated, key: sessionKey("10.0.0.1", u.id, s.id) };
}

Deno.test("SessionRegistry joins a reconnect inside the window and closes with the real end time", async () => {
  const t = await setup(300);
  try {
    const c1 = t.conn();
    const a = await t.registry.join(t.req, c1);
    assert.equal(a.index, 1);
    const end1 = new Date(Date.now() - 5);
    await t.registry.connectionEnded(a.session, c1, {
      reason: "normal",
      detail: "dropped",
      endedAt: end1,
      final: false,
    });
    assert.equal((await t.rows())[0].is_active, true, "kept open for a reconnect");
    const c2 = t.conn();
    const b = await t.registry.join(t.req, c2);
    assert.equal(b.session.rowId, a.session.rowId);
    assert.equal(b.index, 2);
    const end2 = new Date();
    await t.registry.connectionEnded(b.session, c2, {
      reason: "normal",
      detail: "dropped",
      endedAt: end2,
      final: false,
    });
    await new Promise((r) => setTimeout(r, 500));
    const [row] = await t.rows();
    assert.equal(row.is_active, false);
    assert.equal(
      row.ended_at!.getTime(),
      end2.getTime(),
      "ended_at is when the client left, not the window's end",
    );
    assert.equal(row.metadata.connections, 2);
    // after the window a new connection is a new session
    const c3 = t.conn();
    const c = await t.registry.join(t.req, c3);
    assert.notEqual(c.session.rowId, a.session.rowId);
    await t.registry.connectionEnded(c.session, c3, {
      reason: "normal",
      detail: "bye",
      endedAt: new Date(),
      final: true,
    });
    assert.equal((await t.rows())[1].is_active, false, "a deliberate disconnect closes at once");
    assert.deepEqual(t.audits.map((e) => e.action), [
      "rdp.session_start",
      "rdp.session_start",
      "rdp.session_end",
      "rdp.session_start",
      "rdp.session_end",
    ]);
  } finally {
    await t.db.close();
  }
});

Deno.test("SessionRegistry serialises concurrent first connections into one session", async () => {
  const t = await setup(1000);
  try {
    const [a, b] = await Promise.all([t.registry.join(t.req, t.conn()), t.registry.join(t.req, t.conn())]);
    assert.equal(a.session, b.session);
    assert.deepEqual([a.index, b.index].sort(), [1, 2]);
    assert.equal((await t.rows()).length, 1);
    await t.registry.closeAll("shutdown", "test");
  } finally {
    await t.db.close();
  }
});

Deno.test("SessionRegistry kill terminates every connection and blocks an immediate comeback", async () => {
  const t = await setup(1000);
  try {
    const c1 = t.conn();
    const c2 = t.conn();
    const { session } = await t.registry.join(t.req, c1);
    await t.registry.join(t.req, c2);
    assert.ok(t.registry.terminateSession(session.sessionId, "killed", "by admin"));
    assert.deepEqual(t.terminated, ["killed", "killed"]);
    assert.ok(t.registry.recentlyKilled(t.key));
    assert.ok(!t.registry.recentlyKilled(t.key, Date.now() + 2000), "only for the window");
    assert.equal(t.registry.terminateSession("no-such-session", "killed", "x"), false);
    for (const c of [c1, c2]) {
      await t.registry.connectionEnded(session, c, {
        reason: "killed",
        detail: "by admin",
        endedAt: new Date(),
        final: true,
      });
    }
    const [row] = await t.rows();
    assert.equal(row.termination_reason, "killed");
  } finally {
    await t.db.close();
  }
});

Deno.test("SessionRegistry.closeAll closes a session waiting for a reconnect with how it ended", async () => {
  const t = await setup(60_000);
  try {
    const c1 = t.conn();
    const { session } = await t.registry.join(t.req, c1);
    await t.registry.connectionEnded(session, c1, {
      reason: "error",
      detail: "reset",
      endedAt: new Date(),
      final: false,
    });
    await t.registry.closeAll("shutdown", "stopping");
    const [row] = await t.rows();
    assert.equal(row.is_active, false);
    assert.equal(row.termination_reason, "error");
  } finally {
    await t.db.close();
  }
});

Deno.test("SessionRegistry indexes an ended session for search: lines typed after logon and clipboard texts, at their moment in the recording", async () => {
  const t = await setup(300);
  try {
    const c1 = t.conn();
    const { session, index } = await t.registry.join(t.req, c1);
    const recId = await t.registry.addRecording(session, index, "/nonexistent/rec.jhrdp");
    const [{ started_at }] = await t.db.sql<{ started_at: Date }[]>`SELECT started_at FROM recordings`;
    const at = (s: number) => new Date(started_at.getTime() + s * 1000).toISOString();
    session.summary.add({ type: "keys_redacted", at: at(1), count: 9 });
    session.summary.add({ type: "logon", at: at(2), how: "save_session_info" });
    session.summary.add({
      type: "keys",
      at: at(5),
      text: "Get-Service<Tab>| Stop-Servicx<Backspace>e<Enter>",
    });
    session.summary.add({ type: "keys", at: at(9), text: "notepad secrets.txt" });
    session.summary.add({
      type: "clipboard_text",
      at: at(12),
      from: "server",
      text: "password=hunter2-copied",
      length: 23,
      truncated: false,
    });
    await t.registry.connectionEnded(session, c1, {
      reason: "normal",
      detail: "bye",
      endedAt: new Date(),
      final: true,
    });
    const { searchCommands } = await import("../../db/session_commands.ts");
    const hits = await searchCommands(t.db.sql, { text: "stop-service" });
    assert.deepEqual(hits.map((h) => [h.kind, h.text, h.protocol, Number(h.recording_id)]), [
      ["keys", "Get-Service | Stop-Service", "rdp", recId],
    ]);
    assert.ok(Math.abs(hits[0].offset_seconds! - 5) < 0.01, `offset ${hits[0].offset_seconds}`);
    const open = await searchCommands(t.db.sql, { text: "secrets.txt" });
    assert.equal(open[0].kind, "keys", "the line still being typed at the end is kept");
    const clip = await searchCommands(t.db.sql, { text: "hunter2-copied" });
    assert.deepEqual(clip.map((h) => [h.kind, Math.round(h.offset_seconds!)]), [["clipboard", 12]]);
  } finally {
    await t.db.close();
  }
});
