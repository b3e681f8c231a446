// e2e: an auditor looks into SSH sessions from the terminal. The real OpenSSH client runs commands in a PTY
// through the proxy to a real sshd; `jumphost sessions show` (table, --json, id prefix) describes the session and
// `jumphost sessions replay` plays its asciicast with the recorded timing, scaled, at once (--cat), or live
// (--follow) while the session runs. RDP sessions, missing files and malformed lines get clear messages.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId, sshWith } from "./helpers/ssh_clients.ts";
import { cliFor, MAIN } from "./helpers/cli.ts";
import { openSession } from "../db/sessions.ts";
import { addRecording } from "../db/recordings.ts";
import { enqueueConversion } from "../db/conversions.ts";

interface Streamed {
  /** stdout so far, with when (ms since spawn) each chunk arrived */
  chunks: { at: number; text: string }[];
  stdout(): string;
  /** ms since spawn at which `re` first matched the stdout, waiting up to `ms` */
  when(re: RegExp, ms?: number): Promise<number>;
  done: Promise<{ code: number; stderr: string; at: number }>;
}

/** `jumphost ARGS` with its stdout read as it comes (to see when output appears). */
function streamCli(url: string, args: string[]): Streamed {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { JUMPHOST_DATABASE_URL: url, JUMPHOST_LOG_LEVEL: "warn" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: { at: number; text: string }[] = [];
  const stdout = () => chunks.map((c) => c.text).join("");
  const readOut = (async () => {
    const dec = new TextDecoder();
    for await (const b of child.stdout) {
      chunks.push({ at: performance.now() - t0, text: dec.decode(b, { stream: true }) });
    }
  })();
  const readErr = new Response(child.stderr).text();
  const done = Promise.all([child.status, readOut, readErr]).then(([s, _o, stderr]) => ({
    code: s.code,
    stderr,
    at: performance.now() - t0,
  }));
  let exited = false;
  done.then(() => exited = true);
  const when = async (re: RegExp, ms = 30_000) => {
    const until = Date.now() + ms;
    for (;;) {
      let acc = "";
      for (const c of chunks) {
        acc += c.text;
        if (re.test(acc)) return c.at;
      }
      if (exited || Date.now() > until) {
        throw new Error(`${args.join(" ")}: never printed ${re}: ${JSON.stringify(stdout())}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { chunks, stdout, when, done };
}

interface SessionJson {
  session_id: string;
  user_name: string;
  server_name: string;
  source_ip: string;
  ssh_login: string;
  protocol: string;
  is_active: boolean;
  termination_reason: string;
  node_id: string;
  metadata: { channels: { type: string; command?: string }[] };
  recordings: {
    kind: string;
    channel: string;
    path: string;
    size: number;
    file_size: number;
    conversion: unknown;
  }[];
}

Deno.test("sessions show and replay: a real PTY session recorded through the proxy, played back and followed live", async (t) => {
  const env = await startSshEnv();
  const cli = cliFor(env.db.url);
  const goDir = await Deno.makeTempDir({ prefix: "jh-replay-go-" });
  try {
    await Deno.chmod(goDir, 0o755); // the backend's OS user tests for the go-file in here
    const key = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [key.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: key.path };
    const U = env.sshd.user;
    const lastSession = async () =>
      (await env.db.sql<{ id: number; session_id: string; is_active: boolean }[]>`
        SELECT id, session_id, is_active FROM sessions ORDER BY id DESC LIMIT 1`)[0];

    /** a row as the RDP proxy opens it, for the parts of the CLI that only read rows */
    const openRow = async (sessionId: string) => {
      const [ids] = await env.db.sql<{ user_id: number; server_id: number; policy_id: number }[]>`
        SELECT user_id, server_id, policy_id FROM sessions WHERE protocol = 'ssh' LIMIT 1`;
      return await openSession(env.db.sql, {
        sessionId,
        userId: ids.user_id,
        serverId: ids.server_id,
        userName: "alice",
        serverName: "web1",
        protocol: "rdp",
        sourceIp: "127.0.0.10",
        proxyIp: null,
        backendIp: "127.0.0.1",
        backendPort: 3389,
        sshLogin: null,
        policyId: ids.policy_id,
        nodeId: "test-node",
        metadata: {},
      });
    };

    const cmd = "echo marker-$((100+23)); sleep 2; echo done-$((400+56))";
    const r = await sshWith(me, env.port, "127.0.0.1", `${U}@web1`, ["-tt"], [cmd]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /marker-123\r?\n[^]*done-456/);
    let s = await lastSession();
    for (let i = 0; i < 200 && s.is_active; i++) {
      s = await new Promise((r) => setTimeout(r, 25)).then(lastSession);
    }
    assert.equal(s.is_active, false);
    const id = s.session_id;

    await t.step("show prints the session's fields, its exec command and its recording", async () => {
      const out = await cli.ok(["sessions", "show", id]);
      assert.match(out, new RegExp(`^session +${id}$`, "m"));
      assert.match(out, /^user +alice$/m);
      assert.match(out, /^source ip +127\.0\.0\.10$/m);
      assert.match(out, /^server +web1$/m);
      assert.match(out, new RegExp(`^login +${U}$`, "m"));
      assert.match(out, /^protocol +ssh$/m);
      assert.match(out, /^status +normal$/m);
      assert.match(out, /^node +test-node$/m);
      assert.match(out, /^duration +[2-9]s$/m);
      assert.ok(out.includes(`exec  ${cmd}`), out);
      assert.match(
        out,
        new RegExp(`asciicast +exec: echo marker.* +${env.recordingsDir}/\\S+-1\\.cast +\\d`),
      );
      assert.equal(await cli.ok(["sessions", "show", id.slice(0, 6)]), out, "a unique prefix finds it too");
    });

    await t.step(
      "show --json has the row, the metadata and the recordings with their file size",
      async () => {
        const j = await cli.json<SessionJson>(["sessions", "show", id]);
        assert.equal(j.session_id, id);
        assert.deepEqual([j.user_name, j.server_name, j.source_ip, j.ssh_login, j.protocol], [
          "alice",
          "web1",
          "127.0.0.10",
          U,
          "ssh",
        ]);
        assert.equal(j.termination_reason, "normal");
        assert.deepEqual(j.metadata.channels.map((c) => [c.type, c.command]), [["exec", cmd]]);
        assert.equal(j.recordings.length, 1);
        const [rec] = j.recordings;
        assert.equal(rec.kind, "asciicast");
        assert.equal(rec.file_size, (await Deno.stat(rec.path)).size);
        assert.equal(rec.size, rec.file_size);
        assert.equal(rec.conversion, null);
      },
    );

    await t.step("replay --cat prints the output in order at once; input is not echoed", async () => {
      const out = await cli.ok(["sessions", "replay", id, "--cat"]);
      const a = out.indexOf("marker-123"), b = out.indexOf("done-456");
      assert.ok(a >= 0 && b > a, JSON.stringify(out));
      assert.doesNotMatch(out, /\$\(\(/, "the command line itself is not in the output");
    });

    await t.step("replay keeps the recorded pause; --speed 10 and --idle-limit shorten it", async () => {
      const gap = async (extra: string[]) => {
        const p = streamCli(env.db.url, ["sessions", "replay", id, ...extra]);
        const a = await p.when(/marker-123/), b = await p.when(/done-456/);
        const end = await p.done;
        assert.equal(end.code, 0, end.stderr);
        return b - a;
      };
      const normal = await gap([]);
      assert.ok(normal >= 1500 && normal < 6000, `speed 1 kept the ~2 s pause: ${normal} ms`);
      const fast = await gap(["--speed", "10"]);
      assert.ok(fast < 1500, `speed 10 played the 2 s pause in ${fast} ms`);
      const capped = await gap(["--idle-limit", "0.3"]);
      assert.ok(capped < 1500, `an idle limit of 0.3 s played the 2 s pause in ${capped} ms`);
    });

    await t.step("replay --follow prints a live session as it runs and exits when it ends", async () => {
      const go = join(goDir, "go");
      const live = "echo live-start; while [ ! -e " + go +
        " ]; do sleep 0.1; done; echo live-after-$((6*7)); " +
        "sleep 0.5; echo live-end";
      const c = await clientArgs(me);
      const client = new Deno.Command("ssh", {
        args: [...c.args, "-tt", "-p", String(env.port), `${U}@web1@127.0.0.1`, live],
        env: c.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const clientDone = client.output();
      try {
        let row = await lastSession();
        for (let i = 0; i < 400 && (row.session_id === id || !row.is_active); i++) {
          row = await new Promise((r) => setTimeout(r, 25)).then(lastSession);
        }
        assert.ok(row.is_active && row.session_id !== id, "the live session has a row");
        const f = streamCli(env.db.url, ["sessions", "replay", row.session_id, "--follow"]);
        await f.when(/live-start/); // what was recorded before following began
        let followEnded = 0;
        f.done.then(() => followEnded = Date.now());
        await Deno.writeTextFile(go, ""); // only now does the session print live-after-42
        await f.when(/live-after-42/);
        await f.when(/live-end/);
        const out = await clientDone;
        const clientEnded = Date.now();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const end = await Promise.race([
          f.done,
          new Promise<null>((r) => timer = setTimeout(() => r(null), 10_000)),
        ]);
        clearTimeout(timer);
        assert.ok(end, "follow exits once the session has ended");
        assert.equal(end.code, 0, end.stderr);
        assert.ok(followEnded >= clientEnded - 100, "follow ran until the session was over");
        const text = f.stdout();
        assert.ok(text.indexOf("live-start") < text.indexOf("live-after-42"));
        assert.ok(text.indexOf("live-after-42") < text.indexOf("live-end"));
        assert.equal((await lastSession()).is_active, false);
      } finally {
        await clientDone.catch(() => {});
      }
    });

    await t.step("replay --follow on an ended session says so and prints the recording", async () => {
      const res = await cli.run(["sessions", "replay", id, "--follow"]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /marker-123[^]*done-456/);
      assert.match(res.stderr, new RegExp(`session ${id} has ended; printing its recording`));
    });

    await t.step("a command without a terminal is recorded too: replay prints its output", async () => {
      const plain = await sshWith(me, env.port, "127.0.0.1", `${U}@web1`, [], ["echo plain"]);
      assert.equal(plain.stdout, "plain\n", plain.stderr);
      const sid = (await lastSession()).session_id;
      const res = await cli.run(["sessions", "replay", sid, "--cat"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "plain\r\n", "shown as a terminal would show it");
      const [read] = await env.db.sql<{ details: Record<string, unknown> }[]>`
        SELECT details FROM audit_log WHERE action = 'recording.download' AND target = ${sid}`;
      assert.equal(read.details.via, "cli replay", "the replay is audited");
    });

    await t.step("a missing recording file: show says so, replay fails with one line", async () => {
      const [{ path }] = await env.db.sql<{ path: string }[]>`
        SELECT r.path FROM recordings r JOIN sessions s ON s.id = r.session_id WHERE s.session_id = ${id}`;
      await Deno.rename(path, path + ".away");
      try {
        assert.match(await cli.ok(["sessions", "show", id]), /\(file missing\)/);
        const res = await cli.run(["sessions", "replay", id, "--cat"]);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^jumphost: cannot read recording .*\.cast: .*\n$/);
      } finally {
        await Deno.rename(path + ".away", path);
      }
    });

    await t.step("malformed lines are skipped with a warning; the rest still plays", async () => {
      const [{ path }] = await env.db.sql<{ path: string }[]>`
        SELECT r.path FROM recordings r JOIN sessions s ON s.id = r.session_id WHERE s.session_id = ${id}`;
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.splice(2, 0, "{garbage", '[1, "o"]', '[-5, "o", "neg"]');
      await Deno.writeTextFile(path, lines.join("\n") + '[9, "o", "unterminated-tail"]');
      const res = await cli.run(["sessions", "replay", id, "--cat"]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /marker-123[^]*done-456[^]*unterminated-tail/);
      assert.doesNotMatch(res.stdout, /neg/);
      assert.equal(res.stderr.match(/warning: .* line \d+: .*; skipped/g)?.length, 3, res.stderr);
    });

    await t.step("an RDP session: show has the MP4 state, replay points to recordings convert", async () => {
      const rowId = await openRow("rdp-test-session-1");
      const recPath = join(env.dir, "x.rdprec");
      await Deno.writeFile(recPath, new Uint8Array(10));
      const recId = await addRecording(env.db.sql, {
        sessionRowId: rowId,
        kind: "rdp",
        channel: null,
        path: recPath,
      });
      const { job } = await enqueueConversion(env.db.sql, {
        recordingId: recId,
        sourceSize: 10,
        sourceMtime: null,
        rush: false,
        requestedBy: "test",
        now: new Date(),
      });
      const out = await cli.ok(["sessions", "show", "rdp-test"]);
      assert.match(out, /^protocol +rdp$/m);
      assert.match(out, new RegExp(`rdp +- +${recPath} +10 B +open +job ${job.id} pending`));
      const j = await cli.json<SessionJson>(["sessions", "show", "rdp-test-session-1"]);
      const conv = j.recordings[0].conversion as { id: number; state: string };
      assert.deepEqual([conv.id, conv.state], [job.id, "pending"]);
      const res = await cli.run(["sessions", "replay", "rdp-test-session-1"]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /is an RDP session.*jumphost recordings convert rdp-test-session-1/);
      assert.equal(res.stderr.trim().split("\n").length, 1);
    });

    await t.step("an unknown or ambiguous id and bad pace options are clear errors", async () => {
      const none = await cli.run(["sessions", "show", "zzzzzzzz"]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no session "zzzzzzzz"/);
      await openRow("ambig-1");
      await openRow("ambig-2");
      const amb = await cli.run(["sessions", "replay", "ambig"]);
      assert.equal(amb.code, 1);
      assert.match(amb.stderr, /prefix "ambig" is ambiguous \(ambig-2, ambig-1, …\)/);
      const both = await cli.run(["sessions", "replay", id, "--cat", "--speed", "2"]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /not of --cat or --follow/);
      const bad = await cli.run(["sessions", "replay", id, "--speed", "0"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--speed must be/);
    });
  } finally {
    await env.close();
    await Deno.remove(goDir, { recursive: true }).catch(() => {});
  }
});
