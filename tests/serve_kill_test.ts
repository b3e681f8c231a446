// kill -9 of serve in the middle of an SSH or RDP session: at the next start the session is closed (an error,
// "the previous process ended without closing it"), and its asciicast is valid up to the kill (every
// complete line parses, the output is there); an RDP recording torn by the kill converts up to the tear.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { freePort, haveRdpTools, startShadow, startXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually } from "./helpers/rdp_env.ts";
import { fileSize } from "../recorder/convert/cache.ts";
import { createUser } from "../db/users.ts";
import { createServer } from "../db/servers.ts";
import { createPolicy } from "../db/policies.ts";
import { renderRecordingToMp4 } from "../recorder/convert/render_to_mp4.ts";

Deno.test("serve killed with SIGKILL mid SSH session: closed at the next start, asciicast valid up to the kill", async () => {
  const env = await startServeEnv();
  try {
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const c = await clientArgs(env.client);
    const live = new Deno.Command("ssh", {
      args: [
        ...c.args,
        "-tt",
        "-p",
        String(env.ports.ssh),
        "-l",
        env.target,
        "127.0.0.1",
        "echo first-line; sleep 60",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = live.stdout.getReader();
    let out = "";
    while (!out.includes("first-line")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    assert.match(out, /first-line/);
    const [s] = await env.db.sql<{ session_id: string; is_active: boolean }[]>`
      SELECT session_id, is_active FROM sessions ORDER BY id DESC LIMIT 1`;
    assert.equal(s.is_active, true);
    const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings ORDER BY id DESC LIMIT 1`;
    // the line is on disk before the kill (the writer streams; give it its moment)
    for (let i = 0; i < 20 && !(await Deno.readTextFile(rec.path)).includes("first-line"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    Deno.kill(env.serve.child.pid, "SIGKILL");
    await env.serve.child.status;
    // the client loses its connection
    for (;;) if ((await reader.read()).done) break;
    await live.stdin.close().catch(() => {});
    await live.stderr.cancel();
    assert.notEqual((await live.status).code, 0);

    await env.respawn();
    await env.serve.waitFor(/"msg":"ready"/, 60_000);
    const [after] = await env.db.sql<
      { is_active: boolean; termination_reason: string; termination_detail: string; ended_at: Date | null }[]
    >`SELECT is_active, termination_reason, termination_detail, ended_at FROM sessions
      WHERE session_id = ${s.session_id}`;
    assert.equal(after.is_active, false);
    assert.equal(after.termination_reason, "error");
    assert.match(after.termination_detail, /previous process ended without closing it/);
    assert.ok(after.ended_at);
    // the asciicast: a header and events, every complete line valid JSON, the output recorded
    const text = await Deno.readTextFile(rec.path);
    const lines = text.slice(0, text.lastIndexOf("\n")).split("\n");
    const header = JSON.parse(lines[0]);
    assert.equal(header.version, 2);
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    assert.ok(events.some((e) => e[1] === "o" && e[2].includes("first-line")), text);
    // and serve works again
    assert.equal((await env.sshRun(["echo again"])).stdout, "again\n");
  } finally {
    await env.close();
  }
});

Deno.test({
  name:
    "serve killed with SIGKILL mid RDP session: closed at the next start, the torn recording converts up to the kill",
  ignore: !haveRdpTools(),
  async fn() {
    const shadow = await startShadow();
    const rdpPort = await freePort();
    const env = await startServeEnv({
      withSsh: false,
      setup: async (db) => {
        await createUser(db.sql, { name: "alice", sourceIps: [{ cidr: "127.0.0.1/32" }] }, "test");
        await createServer(
          db.sql,
          {
            name: "desk",
            address: "127.0.0.1",
            rdpPort: shadow.port,
            protocols: ["rdp"],
            poolIp: "none",
            rdpListenPort: rdpPort,
          },
          "test",
          null,
        );
        await createPolicy(db.sql, {
          user: "alice",
          server: "desk",
          validFrom: new Date(Date.now() - 60_000),
          validUntil: new Date(Date.now() + 3_600_000),
        }, "test");
      },
    });
    const out = await Deno.makeTempDir();
    try {
      await env.serve.waitFor(/"msg":"ready"/, 60_000);
      const client = await startXfreerdp({ host: "127.0.0.1", port: rdpPort });
      let rec: { path: string; session_id: string };
      try {
        rec = await eventually(
          async () => {
            const [r] = await env.db.sql<{ path: string; session_id: string }[]>`
            SELECT r.path, s.session_id FROM recordings r JOIN sessions s ON s.id = r.session_id
            ORDER BY r.id DESC LIMIT 1`;
            return r && ((await fileSize(r.path)) ?? 0) > 20_000 ? r : null;
          },
          30_000,
          "an RDP recording being written",
        );
        Deno.kill(env.serve.child.pid, "SIGKILL");
        await env.serve.child.status;
      } finally {
        await client.stop();
      }
      await env.respawn();
      await env.serve.waitFor(/"msg":"ready"/, 60_000);
      const [after] = await env.db.sql<{ is_active: boolean; termination_reason: string }[]>`
        SELECT is_active, termination_reason FROM sessions WHERE session_id = ${rec.session_id}`;
      assert.deepEqual(after, { is_active: false, termination_reason: "error" });
      const result = await renderRecordingToMp4({ input: rec.path, output: `${out}/killed.mp4` });
      assert.equal(result.complete, false, "no END record: the writer was killed");
      assert.ok(result.frames >= 1 && result.width > 0, JSON.stringify(result));
      assert.ok(Deno.statSync(`${out}/killed.mp4`).size > 0);
    } finally {
      await env.close();
      await shadow.stop();
      await Deno.remove(out, { recursive: true });
    }
  },
});
