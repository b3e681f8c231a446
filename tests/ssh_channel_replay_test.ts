// e2e (OpenSSH → proxy → real sshd, then the real CLI and the console on the same database): a shell without
// a terminal (`ssh -T host bash -i`, commands fed on stdin) is recorded, listed among the session's
// recordings, replayed by `jumphost sessions replay` and the console, and every read of it is audited.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { cliFor } from "./helpers/cli.ts";
import { fixture } from "../web/testing.ts";
import { castEvents } from "../recorder/typed_lines.ts";

Deno.test("ssh -T host bash -i: replayed by the CLI and the console (command, output, stderr), reads audited", async () => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
    const typed = "echo replay-$((20+22))\ncat /no-such-file-qq\nexit\n";
    const r = await ssh(me, env.port, "127.0.0.1", `${env.sshd.user}@web1`, ["-T", "bash --norc -i"], {
      stdin: typed,
    });
    assert.equal(r.stdout, "replay-42\n", r.stderr);
    let sid = "";
    for (let i = 0; i < 100 && !sid; i++) {
      const [s] = await env.db.sql<{ session_id: string }[]>`
        SELECT session_id FROM sessions WHERE NOT is_active ORDER BY id DESC LIMIT 1`;
      if (s) sid = s.session_id;
      else await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(sid, "the session closed");

    // the CLI lists the recording and plays it: what was typed, its output and its stderr
    const cli = cliFor(env.db.url, { JUMPHOST_RECORDINGS_DIR: env.recordingsDir });
    const show = await cli.ok(["sessions", "show", sid]);
    assert.match(show, /exec: bash --norc -i/);
    const played = await cli.ok(["sessions", "replay", sid, "--cat"]);
    assert.match(played, /echo replay-\$\(\(20\+22\)\)/);
    assert.match(played, /replay-42/);
    assert.match(played, /cat: \/no-such-file-qq: No such file or directory/);

    // the console shows the player and serves the asciicast, as for a terminal
    const fx = await fixture({ recordingsDir: env.recordingsDir }, env.db);
    const a = await fx.as("auditor");
    const page = await a.page(`/sessions/${sid}`);
    assert.match(page.html, /data-player data-src="\/sessions\/[^"]+\/cast"/);
    assert.match(page.html, /exec: bash --norc -i/);
    const dl = await a.get(`/sessions/${sid}/cast?download=1`);
    assert.equal(dl.status, 200);
    const cast = await dl.text();
    assert.match(cast, /"i", "echo replay-\$\(\(20\+22\)\)\\n/);
    // what the terminal showed, joined: one write of the backend may arrive in several packets, hence events
    const shown = castEvents(cast).filter(([, code]) => code === "o").map(([, , d]) => d).join("");
    assert.match(shown, /replay-42/);
    assert.match(shown, /cat: \/no-such-file-qq: No such file or directory/);

    const reads = await env.db.sql<{ details: Record<string, unknown> }[]>`
      SELECT details FROM audit_log WHERE action = 'recording.download' AND target = ${sid} ORDER BY id`;
    assert.deepEqual(reads.map((x) => [x.details.format, x.details.via]), [
      ["asciicast", "cli replay"],
      ["asciicast", "download"],
    ]);
  } finally {
    await env.close();
  }
});
