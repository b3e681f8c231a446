// The console's two searches against a real PostgreSQL: the audit user filter (three index walks merged) and
// the sessions text search (one trigram expression) return what the plain OR forms returned.
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { listAudit, writeAudit } from "./audit.ts";
import { listSessions } from "./session_queries.ts";

Deno.test("listAudit user filter: actor, target or details.user; newest first, once each, with the others", async () => {
  const db = await createTestDb();
  try {
    const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
    const rows: [number, string, string | null, Record<string, unknown>, boolean][] = [
      [1, "alice", "web1", {}, true], // acts
      [2, "admin", "alice", {}, true], // is the target
      [3, "admin", "grp", { user: "alice" }, true], // named in the details
      [4, "alice", "alice", { user: "alice" }, false], // all three: one row
      [5, "bob", "web1", { user: "bob" }, true], // not hers
      [6, "admin", "alicex", { user: "alic" }, true], // near misses
    ];
    for (const [m, actor, target, details, success] of rows) {
      await writeAudit(db.sql, { at: t(m), actor, action: "user.update", target, details, success });
    }
    const minutes = async (f: Parameters<typeof listAudit>[1]) =>
      (await listAudit(db.sql, f)).map((r) => r.at.getUTCMinutes());
    assert.deepEqual(await minutes({ user: "alice" }), [4, 3, 2, 1]);
    assert.deepEqual(await minutes({ user: "alice", limit: 2 }), [4, 3]);
    assert.deepEqual(await minutes({ user: "alice", success: true }), [3, 2, 1]);
    assert.deepEqual(await minutes({ user: "alice", since: t(2), until: t(4) }), [3, 2]);
    const [, second] = await listAudit(db.sql, { user: "alice" });
    assert.deepEqual(await minutes({ user: "alice", beforeId: second.id }), [2, 1]);
    assert.deepEqual(await minutes({ user: "nobody" }), []);
    assert.deepEqual(await minutes({ user: "bob" }), [5]);
  } finally {
    await db.close();
  }
});

Deno.test("listSessions text: a substring of id, user, server, login or address; wildcards are literal", async () => {
  const db = await createTestDb();
  try {
    const add = (id: string, user: string, server: string, login: string | null, ip: string) =>
      db.sql`INSERT INTO sessions (session_id, user_name, server_name, protocol, source_ip, ssh_login, node_id,
          ended_at, is_active, termination_reason)
        VALUES (${id}, ${user}, ${server}, 'ssh', ${ip}::inet, ${login}, 'n', now(), false, 'normal')`;
    await add("s-aaa", "Alice", "web1", "root", "10.1.2.3");
    await add("s-bbb", "bob", "db_main", null, "192.168.7.9");
    await add("s-ccc", "carol", "dbxmain", "deploy", "10.9.9.9");
    const ids = async (text: string) =>
      (await listSessions(db.sql, { text })).map((s) => s.session_id).sort();
    assert.deepEqual(await ids("alice"), ["s-aaa"], "case-insensitive user");
    assert.deepEqual(await ids("s-bb"), ["s-bbb"], "session id");
    assert.deepEqual(await ids("db"), ["s-bbb", "s-ccc"], "server");
    assert.deepEqual(await ids("db_"), ["s-bbb"], "_ is not a wildcard");
    assert.deepEqual(await ids("%"), [], "% is not a wildcard");
    assert.deepEqual(await ids("deplo"), ["s-ccc"], "login");
    assert.deepEqual(await ids("168.7"), ["s-bbb"], "source address");
    assert.deepEqual(await ids("10."), ["s-aaa", "s-ccc"]);
    assert.deepEqual(await ids("web1root"), [], "no match across two fields");
  } finally {
    await db.close();
  }
});
