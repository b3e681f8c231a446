// Several nodes on one database, all real: two `jumphost serve` processes on 127.0.0.11 and 127.0.0.12
// sharing one PostgreSQL and one recordings directory (as a shared mount would be), OpenSSH → a node's
// proxy → sshd. Both appear in `jumphost nodes list`; node A's console (Chromium) shows both nodes, the live
// view of a session held by node B, and kills it (the kill travels by NOTIFY); `kill -9` of node B with an
// open session: node A declares it lost and the session ends as node_lost within 40 s (the default
// node_lost_after of 30 s), audited once. Before that, node B frozen by SIGSTOP past the threshold is
// declared lost too, and when it runs again it ends the session closed under it. doctor's cluster lines.
// Screenshots in tests/artifacts/nodes-cluster/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ServeEnv, startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { jh } from "./helpers/cli.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";

async function waitFor<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An OpenSSH session through `node`'s proxy running `command`; its output is drained in the background. */
async function openSsh(a: ServeEnv, node: { host: string; port: number }, command: string) {
  const c = await clientArgs(a.client);
  const child = new Deno.Command("ssh", {
    args: [...c.args, "-tt", "-p", String(node.port), "-l", a.target, node.host, command],
    env: c.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const drained = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) out += dec.decode(chunk, { stream: true });
  })();
  child.stderr.cancel();
  return {
    output: () => out,
    async done() {
      await child.stdin.close().catch(() => {});
      const s = await child.status;
      await drained;
      return s;
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch (_e) {
        // gone already
      }
    },
  };
}

const sessionOf = (a: ServeEnv, node: string, not: string[] = []) =>
  waitFor(`an active session on ${node}`, async () => {
    const r = await a.db.sql<{ session_id: string }[]>`SELECT session_id FROM sessions
      WHERE is_active AND node_id = ${node} AND NOT (session_id = ANY(${not}::text[])) ORDER BY id DESC`;
    return r[0]?.session_id;
  });

Deno.test("two nodes on one database: nodes list, console Nodes page, cross-node live view and kill, kill -9 → node_lost", async () => {
  const shared = await Deno.makeTempDir({ prefix: "jh-shared-rec-" });
  const recEnv = { JUMPHOST_RECORDINGS_DIR: shared };
  const a = await startServeEnv({ host: "127.0.0.11", env: { ...recEnv, JUMPHOST_NODE_ID: "node-a" } });
  let b: ServeEnv | null = null;
  const b0 = await openBrowser("nodes-cluster");
  const sessions: { kill(): void }[] = [];
  try {
    await a.serve.waitFor(/"msg":"ready"/, 60_000);
    // node B gets node A's ssh/ directory (host key, backend keys), as the deployment guide says
    b = await startServeEnv({
      db: a.db,
      withSsh: false,
      host: "127.0.0.12",
      env: { ...recEnv, JUMPHOST_NODE_ID: "node-b" },
      prepareDataDir: async (dir) => {
        const cp = await new Deno.Command("cp", { args: ["-a", join(a.dataDir, "ssh"), dir] }).output();
        assert.ok(cp.success, new TextDecoder().decode(cp.stderr));
      },
    });
    await b.serve.waitFor(/"msg":"ready"/, 60_000);
    const nodeB = { host: "127.0.0.12", port: b.ports.ssh };

    // both appear in `jumphost nodes list`, healthy, with their own addresses
    const listed = await jh(["nodes", "list", "--json"], { env: { JUMPHOST_DATABASE_URL: a.db.url } });
    assert.equal(listed.code, 0, listed.stderr);
    const nodes = JSON.parse(listed.stdout) as { name: string; health: string; ssh_listen: string[] }[];
    assert.deepEqual(nodes.map((n) => [n.name, n.health]), [["node-a", "ok"], ["node-b", "ok"]]);
    assert.deepEqual(nodes[0].ssh_listen, [`127.0.0.11:${a.ports.ssh}`]);
    assert.deepEqual(nodes[1].ssh_listen, [`127.0.0.12:${b.ports.ssh}`]);
    const table = await jh(["nodes"], { env: { JUMPHOST_DATABASE_URL: a.db.url } });
    assert.match(table.stdout, /^NAME\s+HEALTH\s+LAST BEAT/);
    assert.match(table.stdout, /\nnode-b\s+ok\s+[\d.]+s ago/);

    // a session through node B's proxy, printing a tick every 0.3 s
    const ticking = await openSsh(
      a,
      nodeB,
      "for i in $(seq 1 2000); do echo tick-$i; sleep 0.3; done",
    );
    sessions.push(ticking);
    await waitFor("ticks through node B", () => Promise.resolve(ticking.output().includes("tick-2")));
    const sid = await sessionOf(a, "node-b");

    // node A's console: the Nodes page, then B's session live, then kill it from A
    await createConsoleUser(a.db.sql, {
      name: "ops",
      role: "operator",
      passwordHash: await hashPassword("ops-pw-12345"),
    }, { actor: "test" });
    const base = `http://127.0.0.11:${a.ports.web}`;
    const page = b0.page;
    await consoleLogin(page, base, "ops", "ops-pw-12345");
    await page.goto(`${base}/nodes`);
    await page.waitForSelector('#node-node-a[data-health="ok"]');
    await page.waitForSelector('#node-node-b[data-health="ok"]');
    assert.equal((await page.textContent("#node-node-b .sessions"))?.trim(), "1");
    await b0.shot("01-nodes");

    await page.goto(`${base}/sessions/${sid}`);
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent === "live");
    const termText = () =>
      page.evaluate(() => document.querySelector("#live-term .xterm-rows")?.textContent ?? "");
    const seen = ticking.output().match(/tick-(\d+)/g)!.length;
    // output written by node B after the view opened reaches node A's live view
    await waitFor("new ticks in node A's live view", async () => {
      const n = [...(await termText()).matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
      return n.length > 0 && Math.max(...n) > seen + 3;
    });
    await b0.shot("02-live-view-of-node-b");
    await page.click("#kill");
    await page.waitForURL(/killed=1/);
    const status = await ticking.done();
    assert.notEqual(status.code, 0);
    const [killed] = await waitFor("the killed session closed", async () => {
      const r = await a.db.sql<{ is_active: boolean; termination_reason: string; node_id: string }[]>`
        SELECT is_active, termination_reason, node_id FROM sessions WHERE session_id = ${sid}`;
      return r[0] && !r[0].is_active ? r : null;
    });
    assert.deepEqual([killed.termination_reason, killed.node_id], ["killed", "node-b"]);
    const [kill] = await a.db.sql<{ actor: string; node_id: string }[]>`
      SELECT actor, node_id FROM audit_log WHERE action = 'session.kill' AND target = ${sid}`;
    assert.deepEqual([kill.actor, kill.node_id], ["console:ops", "node-a"]);

    // doctor sees two live nodes of one version, their clocks close to the database's
    const doctor = await jh(["doctor", "--json", "--data-dir", a.dataDir], {
      env: { JUMPHOST_DATABASE_URL: a.db.url },
    });
    const checks = new Map(
      (JSON.parse(doctor.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks
        .map((c) => [c.check, c]),
    );
    assert.deepEqual(
      ["cluster nodes", "cluster clocks", "cluster versions"].map((k) => checks.get(k)?.status),
      ["ok", "ok", "ok"],
    );
    assert.equal(checks.get("cluster nodes")?.detail, "2 live of 2");

    // node B frozen (SIGSTOP) for longer than node_lost_after: declared lost, its session closed; when it
    // runs again it ends that session itself (fail closed) and says so in the audit log
    const paused = await openSsh(a, nodeB, "echo paused-open; sleep 600");
    sessions.push(paused);
    await waitFor("the paused session", () => Promise.resolve(paused.output().includes("paused-open")));
    const pausedSid = await sessionOf(a, "node-b", [sid]);
    Deno.kill(b.serve.child.pid, "SIGSTOP");
    await waitFor("node_lost while frozen", async () => {
      const [r] = await a.db.sql<{ termination_reason: string | null }[]>`
        SELECT termination_reason FROM sessions WHERE session_id = ${pausedSid}`;
      return r?.termination_reason === "node_lost";
    }, 45_000);
    Deno.kill(b.serve.child.pid, "SIGCONT");
    const pausedEnd = await Promise.race([
      paused.done(),
      new Promise<null>((r) => setTimeout(() => r(null), 20_000)),
    ]);
    assert.ok(pausedEnd, "the client of the lost session was disconnected when node B came back");
    const [returned] = await waitFor(
      "node.returned",
      () =>
        a.db.sql<{ target: string; details: { sessions_ended: string[] } }[]>`
        SELECT target, details FROM audit_log WHERE action = 'node.returned'`.then((r) =>
          r.length ? r : null
        ),
    );
    assert.deepEqual([returned.target, returned.details.sessions_ended], ["node-b", [pausedSid]]);
    await waitFor("node B ok again", async () => {
      const [n] = await a.db.sql<{ state: string }[]>`SELECT state FROM nodes WHERE name = 'node-b'`;
      return n.state === "up";
    });

    // kill -9 of node B in the middle of a session: node A declares it lost within 40 s
    const held = await openSsh(a, nodeB, "echo held-open; sleep 600");
    sessions.push(held);
    await waitFor("the held session", () => Promise.resolve(held.output().includes("held-open")));
    const heldSid = await sessionOf(a, "node-b", [sid]);
    Deno.kill(b.serve.child.pid, "SIGKILL");
    await b.serve.child.status;
    const killedAt = Date.now();
    const [lost] = await waitFor("node_lost", async () => {
      const r = await a.db.sql<{ termination_reason: string | null; termination_detail: string }[]>`
        SELECT termination_reason, termination_detail FROM sessions WHERE session_id = ${heldSid}`;
      return r[0]?.termination_reason ? r : null;
    }, 45_000);
    const took = Date.now() - killedAt;
    assert.equal(lost.termination_reason, "node_lost");
    assert.match(lost.termination_detail, /node node-b lost/);
    assert.ok(took < 40_000, `declared lost after ${took} ms`);
    held.kill();
    await held.done();
    const audits = await a.db.sql<{ actor: string; target: string; details: { sessions: string[] } }[]>`
      SELECT actor, target, details FROM audit_log WHERE action = 'node.lost' ORDER BY id`;
    assert.equal(audits.length, 2, "frozen once, killed once: one declaration each");
    assert.deepEqual([audits[1].actor, audits[1].target, audits[1].details.sessions], [
      "node:node-a",
      "node-b",
      [heldSid],
    ]);
    await page.goto(`${base}/nodes`);
    await page.waitForSelector('#node-node-b[data-health="lost"]');
    await page.waitForSelector('#node-node-a[data-health="ok"]');
    assert.match((await page.textContent("#node-node-b"))!, /declared lost .* by node-a/);
    await b0.shot("03-node-b-lost");
    const after = JSON.parse(
      (await jh(["nodes", "list", "--json"], { env: { JUMPHOST_DATABASE_URL: a.db.url } })).stdout,
    ) as { name: string; health: string; lost_by: string }[];
    assert.deepEqual(after.map((n) => [n.name, n.health]), [["node-a", "ok"], ["node-b", "lost"]]);
    assert.deepEqual(b0.errors, [], "no script errors or CSP violations");
  } finally {
    for (const s of sessions) s.kill();
    await b0.close();
    await b?.close();
    await a.close();
    await Deno.remove(shared, { recursive: true }).catch(() => {});
  }
});
