import assert from "node:assert/strict";
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { connect } from "../../db/client.ts";
import { createOpsApp } from "./app.ts";
import { jumphostMetrics } from "../../core/metrics/jumphost_metrics.ts";
import { MetricsHub, MetricsRegistry } from "../../core/metrics/registry.ts";
import { parseExposition } from "../../tests/helpers/prom_text.ts";

const loop = { remoteAddr: { hostname: "127.0.0.1" } };
const far = { remoteAddr: { hostname: "192.0.2.7" } };

Deno.test("/metrics serves registry and database figures to loopback, and refuses others without the token", async () => {
  const db = await createTestDb();
  try {
    await db.sql`INSERT INTO sessions (session_id, user_name, server_name, protocol, source_ip, node_id)
      VALUES ('s1', 'alice', 'web1', 'ssh', '127.0.0.10', 'n1'), ('s2', 'bob', 'web1', 'ssh', '127.0.0.11', 'n1'),
             ('s3', 'bob', 'win1', 'rdp', '127.0.0.11', 'other-node')`;
    const [s] = await db.sql<{ id: number }[]>`SELECT id FROM sessions WHERE session_id = 's1'`;
    await db
      .sql`INSERT INTO recordings (session_id, kind, path, size) VALUES (${s.id}, 'asciicast', '/r/1.cast', 1234)`;
    const hub = new MetricsHub();
    const worker = new MetricsRegistry();
    jumphostMetrics(worker).denials.inc({ protocol: "ssh", reason: "no_policy" }, 4);
    hub.update("ssh", worker.collect());
    const app = createOpsApp({ sql: db.sql, hub, nodeId: "n1", metricsToken: "0123456789abcdef-token" });

    const res = await app.request("/metrics", {}, loop);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const v = parseExposition(await res.text());
    assert.equal(v.get('jumphost_active_sessions{protocol="ssh"}'), 2);
    assert.equal(v.get('jumphost_active_sessions{protocol="rdp"}'), 0); // the rdp session is another node's
    assert.equal(v.get("jumphost_recordings_stored_bytes"), 1234);
    assert.equal(v.get('jumphost_access_denials_total{protocol="ssh",reason="no_policy"}'), 4);
    assert.equal(v.get("jumphost_database_up"), 1);
    assert.ok(v.get("process_resident_memory_bytes")! > 0);

    const denied = await app.request("/metrics", {}, far);
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    const wrong = await app.request("/metrics", { headers: { Authorization: "Bearer nope" } }, far);
    assert.equal(wrong.status, 403);
    await wrong.body?.cancel();
    const withToken = await app.request(
      "/metrics",
      { headers: { Authorization: "Bearer 0123456789abcdef-token" } },
      far,
    );
    assert.equal(withToken.status, 200);
    await withToken.body?.cancel();
    // no token configured: loopback only, and an unknown peer address is refused
    const closed = createOpsApp({ sql: db.sql, hub, nodeId: "n1", metricsToken: null });
    const r = await closed.request("/metrics", {
      headers: { Authorization: "Bearer 0123456789abcdef-token" },
    }, far);
    assert.equal(r.status, 403);
    await r.body?.cancel();
    const unknown = await closed.request("/metrics");
    assert.equal(unknown.status, 403);
    await unknown.body?.cancel();
  } finally {
    await db.close();
  }
});

Deno.test("/healthz answers 200 with a reachable database and 503 when it is gone", async () => {
  const db = await createTestDb();
  try {
    const app = createOpsApp({
      sql: db.sql,
      hub: new MetricsHub(),
      nodeId: "n1",
      metricsToken: null,
      startedAt: new Date(Date.now() - 5000),
    });
    const ok = await app.request("/healthz", {}, far);
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.status, "ok");
    assert.equal(body.database, "ok");
    assert.ok(body.uptime_seconds >= 5);

    // a server that refuses connections: /healthz degrades, /metrics still answers with database_up 0
    const dead = connect({ url: "postgres://jumphost@127.0.0.1:1/none" }, { max: 1 });
    try {
      const down = createOpsApp({ sql: dead, hub: new MetricsHub(), nodeId: "n1", metricsToken: null });
      const r = await down.request("/healthz", {}, loop);
      assert.equal(r.status, 503);
      assert.deepEqual((await r.json()).database, "unreachable");
      const m = await down.request("/metrics", {}, loop);
      assert.equal(m.status, 200);
      assert.equal(parseExposition(await m.text()).get("jumphost_database_up"), 0);
    } finally {
      await dead.end();
      // postgres.js arms a short reconnect backoff timer after a refused connection; let it run out so the
      // ops sanitizer sees no timer of ours (it fired only sometimes before, making this test flaky)
      await new Promise((r) => setTimeout(r, 600));
    }
  } finally {
    await db.close();
  }
});

Deno.test("/metrics sums the recordings table at most once a minute; scrapes in between share the sum", async () => {
  const db = await createTestDb();
  try {
    await db.sql`INSERT INTO sessions (session_id, user_name, server_name, protocol, source_ip, node_id)
      VALUES ('s1', 'alice', 'web1', 'ssh', '127.0.0.10', 'n1')`;
    const [s] = await db.sql<{ id: number }[]>`SELECT id FROM sessions`;
    const add = (path: string, size: number) =>
      db.sql`INSERT INTO recordings (session_id, kind, path, size) VALUES (${s.id}, 'asciicast', ${path}, ${size})`;
    await add("/r/1.cast", 100);
    let t = Date.UTC(2026, 0, 1);
    const app = createOpsApp({
      sql: db.sql,
      hub: new MetricsHub(),
      nodeId: "n1",
      metricsToken: null,
      now: () => new Date(t),
    });
    const stored = async () =>
      parseExposition(await (await app.request("/metrics", {}, loop)).text()).get(
        "jumphost_recordings_stored_bytes",
      );
    assert.equal(await stored(), 100);
    await add("/r/2.cast", 20);
    t += 59_000;
    assert.equal(await stored(), 100, "within the minute: the earlier sum");
    t += 1_000;
    assert.equal(await stored(), 120, "a minute on: summed again");
  } finally {
    await db.close();
  }
});
