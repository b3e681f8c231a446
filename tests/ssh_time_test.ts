// e2e: time and control. On an injected clock moved by the test, a grant's 5- and 1-minute warnings appear in
// the terminal and the session ends at expiry (exec sessions too, without text); revoking a policy disconnects
// within 2 s; `jumphost sessions --active` lists and `sessions kill` ends a session via NOTIFY; utmp/wtmp
// records follow the sessions.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId, runCmd } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { asciinema } from "./helpers/asciinema.ts";
import { cliFor } from "./helpers/cli.ts";
import { ManualClock } from "./helpers/manual_clock.ts";
import { revokePolicy } from "../db/policies.ts";

const MIN = 60_000;

/** ssh running in the background; `out()` is its stdout so far, `done` its exit and when it happened. */
async function background(id: ClientId, port: number, user: string, command: string) {
  const c = await clientArgs(id);
  const child = new Deno.Command("ssh", {
    args: [...c.args, "-p", String(port), `${user}@127.0.0.1`, command],
    env: c.env,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let stdout = "";
  const read = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) stdout += dec.decode(chunk, { stream: true });
  })();
  const done = Promise.all([child.status, read]).then(([s]) => ({ code: s.code, at: Date.now(), stdout }));
  const waitOut = async (re: RegExp) => {
    for (let i = 0; i < 400 && !re.test(stdout); i++) await new Promise((r) => setTimeout(r, 25));
    if (!re.test(stdout)) throw new Error(`ssh never printed ${re}: ${JSON.stringify(stdout)}`);
  };
  return { child, done, waitOut };
}

Deno.test("ssh time: expiry warnings and cut-off, revoke, kill from the CLI, utmp/wtmp", async (t) => {
  const clock = new ManualClock();
  const env = await startSshEnv({ clock });
  const tmux = new Tmux("time");
  const cli = cliFor(env.db.url);
  try {
    const U = env.sshd.user;
    const key = await env.key("k");
    await env.addServer("web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
    const people = ["alice", "bob", "carol", "dave"];
    for (const [i, name] of people.entries()) {
      await env.addUser(name, `127.0.0.${10 + i}`, { keys: [key.pub] });
    }
    const id = (name: string): ClientId => ({ bind: `127.0.0.${10 + people.indexOf(name)}`, key: key.path });
    const now = clock.now();
    const from = new Date(now - MIN);
    await env.grant("alice", "web1", { from, until: new Date(now + 10 * MIN) });
    await env.grant("bob", "web1", { from, until: new Date(now + 7 * MIN) });
    const carolPolicy = await env.grant("carol", "web1", { from, until: new Date(now + 24 * 60 * MIN) });
    await env.grant("dave", "web1", { from, until: new Date(now + 24 * 60 * MIN) });
    const row = async (user: string) =>
      (await env.db.sql<
        {
          session_id: string;
          is_active: boolean;
          termination_reason: string | null;
          termination_detail: string;
          recording_path: string | null;
          ended_at: Date;
        }[]
      >`
        SELECT session_id, is_active, termination_reason, termination_detail, recording_path, ended_at
        FROM sessions WHERE user_name = ${user} ORDER BY id DESC LIMIT 1`)[0];
    const waitRow = async (user: string, active: boolean) => {
      for (let i = 0; i < 200; i++) {
        const r = await row(user);
        if (r && r.is_active === active) return r;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no ${active ? "active" : "closed"} session of ${user}`);
    };

    await t.step(
      "an interactive session is warned at 5 and 1 minutes and cut off at expiry; exec too",
      async () => {
        const c = await clientArgs(id("alice"));
        await tmux.start(["ssh", ...c.args, "-tt", "-p", String(env.port), `${U}@web1@127.0.0.1`], c.env);
        const bob = await background(id("bob"), env.port, `${U}@web1`, "echo started; sleep 100; echo never");
        await tmux.waitFor(/access until .* this session is recorded/);
        await bob.waitOut(/^started\n$/);
        clock.set(now + 5 * MIN);
        await tmux.waitFor(/your access to web1 ends in 5 minutes/);
        clock.set(now + 7 * MIN);
        const b = await bob.done;
        assert.equal(b.stdout, "started\n"); // cut without any text injected into the data stream
        assert.equal(b.code, 255);
        assert.equal((await waitRow("bob", false)).termination_reason, "expired");
        assert.doesNotMatch(await tmux.screen(), /ends in 1 minute|expired/);
        clock.set(now + 9 * MIN);
        await tmux.waitFor(/your access to web1 ends in 1 minute/);
        clock.set(now + 10 * MIN);
        await tmux.waitFor(/your access to web1 has expired; disconnecting/);
        await tmux.waitFor(/\[exit 255\]/);
        const r = await waitRow("alice", false);
        assert.equal(r.termination_reason, "expired");
        const played = await asciinema("cat", r.recording_path!);
        assert.match(played, /ends in 5 minutes[^]*ends in 1 minute[^]*has expired/);
      },
    );

    await t.step("revoking the policy disconnects a live session within 2 s", async () => {
      const carol = await background(id("carol"), env.port, `${U}@web1`, "sleep 30");
      await waitRow("carol", true);
      const t0 = Date.now();
      await revokePolicy(env.db.sql, carolPolicy, "test", "no longer needed");
      const out = await carol.done;
      assert.ok(out.at - t0 < 2000, `took ${out.at - t0} ms`);
      const r = await waitRow("carol", false);
      assert.equal(r.termination_reason, "revoked");
      assert.match(r.termination_detail, /revoked/);
    });

    await t.step("sessions --active lists a live session and sessions kill ends it", async () => {
      const dave = await background(id("dave"), env.port, `${U}@web1`, "sleep 30");
      const live = await waitRow("dave", true);
      const list = await cli.json<
        {
          session_id: string;
          user_name: string;
          source_ip: string;
          server_name: string;
          ssh_login: string;
          protocol: string;
        }[]
      >(["sessions", "--active"]);
      assert.deepEqual(
        list.map((s) => [s.session_id, s.user_name, s.source_ip, s.server_name, s.ssh_login, s.protocol]),
        [
          [live.session_id, "dave", "127.0.0.13", "web1", U, "ssh"],
        ],
      );
      const table = await cli.ok(["sessions", "--active"]);
      assert.match(
        table,
        /^ID\s+USER\s+SOURCE IP\s+SERVER\s+LOGIN\s+PROTOCOL\s+STARTED\s+DURATION\s+SUBSYSTEM/m,
      );
      assert.match(
        table,
        new RegExp(`${live.session_id}\\s+dave\\s+127\\.0\\.0\\.13\\s+web1\\s+${U}\\s+ssh`),
      );
      const killed = await cli.ok(["sessions", "kill", live.session_id]);
      assert.match(killed, /ended/);
      const out = await dave.done;
      assert.equal(out.code, 255);
      const r = await waitRow("dave", false);
      assert.equal(r.termination_reason, "killed");
      assert.match(r.termination_detail, /killed by cli:/);
      const [k] = await env.db.sql<{ at: Date }[]>`SELECT at FROM audit_log WHERE action = 'session.kill'`;
      assert.ok(r.ended_at.getTime() - k.at.getTime() < 2000);
      const again = await cli.run(["sessions", "kill", live.session_id]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already ended/);
      assert.deepEqual(await cli.json(["sessions", "--active"]), []);
      const history = await cli.ok(["sessions", "--user", "dave"]);
      assert.match(
        history,
        /^ID\s+USER\s+SOURCE IP\s+SERVER\s+LOGIN\s+PROTOCOL\s+STARTED\s+DURATION\s+STATUS\s+RECORDING/m,
      );
      assert.match(
        history,
        new RegExp(`${live.session_id}\\s+dave\\s+127\\.0\\.0\\.13\\s+web1\\s+${U}\\s+ssh\\s.*\\skilled\\s`),
      );
    });

    await t.step("utmp and wtmp hold the proxy sessions for last and utmpdump", async () => {
      const wtmp = await runCmd("utmpdump", [env.wtmpFile]);
      for (const user of ["alice", "bob", "carol", "dave"]) {
        assert.match(
          wtmp.stdout,
          new RegExp(
            `\\[7\\] \\[\\d+\\] \\[ssh\\d\\] \\[${user}\\s*\\] \\[ssh\\d\\s*\\] \\[127\\.0\\.0\\.\\d+`,
          ),
        );
      }
      assert.equal(wtmp.stdout.match(/^\[8\]/gm)?.length, 4, wtmp.stdout);
      const last = await runCmd("last", ["-f", env.wtmpFile, "-w"]);
      assert.match(last.stdout, /^dave\s+ssh\d\s+127\.0\.0\.13/m);
      // every line was released again: utmp holds only logout (DEAD_PROCESS) records
      const utmp = await runCmd("utmpdump", [env.utmpFile]);
      assert.doesNotMatch(utmp.stdout, /^\[7\]/m);
    });
  } finally {
    await tmux.kill();
    await env.close();
  }
});
