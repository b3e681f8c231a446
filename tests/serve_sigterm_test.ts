// e2e: SIGTERM to the real `jumphost serve` while an SSH session is live: the user is told, the session
// row is closed with reason "shutdown", the recording is finished and asciinema plays it, serve exits 0.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { asciinema } from "./helpers/asciinema.ts";

Deno.test("SIGTERM during a live SSH session leaves no open session row and a playable recording", async () => {
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
        `${env.target}@127.0.0.1`,
        "echo up-before-term; sleep 60",
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const dec = new TextDecoder();
    let seen = "";
    const reader = live.stdout.getReader();
    while (!seen.includes("up-before-term\r\n")) {
      const r = await reader.read();
      assert.ok(!r.done, `session ended early: ${seen}`);
      seen += dec.decode(r.value);
    }
    const [open] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions WHERE is_active`;
    assert.equal(open.n, 1);

    const code = await env.stop();
    assert.equal(code, 0, env.serve.output().slice(-3000));
    assert.match(env.serve.output(), /"msg":"stopped","service":"ssh"/);
    // the user was told before the connection closed
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen += dec.decode(r.value);
    assert.notEqual((await live.status).code, 0);
    await live.stderr.cancel();
    assert.match(seen, /jumphost: the jump host is shutting down; disconnecting\./);

    const rows = await env.db.sql<
      { is_active: boolean; termination_reason: string; ended_at: Date | null }[]
    >`
      SELECT is_active, termination_reason, ended_at FROM sessions`;
    assert.deepEqual(rows.map((r) => [r.is_active, r.termination_reason, r.ended_at !== null]), [
      [false, "shutdown", true],
    ]);
    const recs = await env.db.sql<{ kind: string; path: string; size: string; ended_at: Date | null }[]>`
      SELECT kind, path, size, ended_at FROM recordings`;
    assert.equal(recs.length, 1);
    const [rec] = recs;
    assert.equal(rec.kind, "asciicast");
    assert.ok(rec.ended_at, "the recording row is finished");
    const st = await Deno.stat(rec.path);
    assert.equal(st.mode! & 0o777, 0o600);
    assert.equal(Number(rec.size), st.size, "the row has the final size");
    const path = rec.path;
    // the recording is complete asciicast v2: asciinema replays it, up to the shutdown notice
    const played = await asciinema("cat", path);
    assert.match(played, /up-before-term/);
    assert.match(played, /the jump host is shutting down/);
  } finally {
    await env.close();
  }
});
