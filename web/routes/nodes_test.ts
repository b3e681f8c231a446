// Route test: the Nodes page lists every registered node with its health and heartbeat age, for every
// console role, and its table refreshes itself.
import assert from "node:assert/strict";
import { registerNode } from "../../db/nodes.ts";
import { fixture } from "../testing.ts";

const reg = (name: string, version = "1.0") => ({
  name,
  bootId: crypto.randomUUID(),
  version,
  sshListen: [`127.0.0.${name.length}:2222`],
  rdpListen: ["127.0.0.1:3389"],
  webListen: ["127.0.0.1:8080"],
  nodeNow: new Date(),
});

Deno.test("nodes page: health ok / late / lost / stopped, heartbeat age, this node marked, polls every 5 s", async () => {
  const fx = await fixture({ nodeLostAfterS: 30 });
  try {
    for (const n of ["test-node", "late-one", "gone", "halted"]) await registerNode(fx.db.sql, reg(n));
    await fx.db.sql`UPDATE nodes SET heartbeat_at = now() - interval '15 seconds' WHERE name = 'late-one'`;
    await fx.db.sql`UPDATE nodes SET state = 'lost', lost_at = now(), lost_by = 'test-node',
      heartbeat_at = now() - interval '40 seconds' WHERE name = 'gone'`;
    await fx.db.sql`UPDATE nodes SET state = 'stopped', stopped_at = now() WHERE name = 'halted'`;
    const a = await fx.as("auditor");
    const p = await a.page("/nodes");
    assert.equal(p.status, 200);
    const health = (n: string) => new RegExp(`id="node-${n}" data-health="([a-z]+)"`).exec(p.html)?.[1];
    assert.deepEqual(
      ["test-node", "late-one", "gone", "halted"].map(health),
      ["ok", "late", "lost", "stopped"],
    );
    assert.match(p.html, /test-node<span class="muted"> \(this node\)/);
    assert.match(p.html, /declared lost [0-9-]+ [0-9:]+ by test-node/);
    const age = /id="node-late-one"[\s\S]*?class="heartbeat-age">([\d.]+) s ago/.exec(p.html)?.[1];
    assert.ok(Number(age) >= 15 && Number(age) < 25, `late-one beat ${age} s ago`);
    assert.match(p.html, /hx-get="\/nodes" hx-trigger="every 5s"/);
    assert.match(p.html, /href="\/nodes"/, "in the navigation");

    const frag = await (await a.get("/nodes", { "HX-Request": "true", "X-JH-Poll": "1" })).text();
    assert.ok(!frag.startsWith("<!doctype"), "a fragment, not a page");
    assert.match(frag, /id="nodes-table"/);
  } finally {
    await fx.close();
  }
});
