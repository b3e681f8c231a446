// e2e: a policy with a weekly window (Mon-Fri 08:00-18:00 Europe/Berlin), on an injected clock: an OpenSSH
// session inside the window is warned 5 minutes before 18:00 Berlin and cut off at it, like at a grant's end;
// a new login after 18:00 is refused as outside_schedule (audited); the CLI refuses a malformed schedule with a
// clear message and lists a policy's schedule.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, ssh } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { cliFor } from "./helpers/cli.ts";
import { ManualClock } from "./helpers/manual_clock.ts";

const MIN = 60_000;

Deno.test("ssh schedule: cut at the window's end (Berlin), refused outside it; CLI validation", async () => {
  // Monday 7 December 2026, 17:50 in Berlin (UTC+1)
  const start = Date.parse("2026-12-07T16:50:00Z");
  const clock = new ManualClock(start);
  const env = await startSshEnv({ clock });
  const tmux = new Tmux("schedule");
  const cli = cliFor(env.db.url);
  try {
    const U = env.sshd.user;
    const key = await env.key("k");
    await env.addServer("web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
    await env.addUser("alice", "127.0.0.10", { keys: [key.pub] });
    // the grant itself lasts days; the window ends first
    await env.grant("alice", "web1", {
      from: new Date(start - 60 * MIN),
      until: new Date(start + 3 * 24 * 60 * MIN),
      schedules: ["Mon-Fri 08:00-18:00 Europe/Berlin"],
    });

    const c = await clientArgs({ bind: "127.0.0.10", key: key.path });
    await tmux.start(["ssh", ...c.args, "-tt", "-p", String(env.port), `${U}@web1@127.0.0.1`], c.env);
    await tmux.waitFor(/access until .* this session is recorded/);
    clock.set(start + 5 * MIN); // 17:55 Berlin
    await tmux.waitFor(/your access to web1 ends in 5 minutes/);
    clock.set(start + 10 * MIN); // 18:00 Berlin
    await tmux.waitFor(/your access to web1 has expired; disconnecting/);
    await tmux.waitFor(/\[exit 255\]/);
    // the row is closed as the proxy finishes the session, a moment after the client has gone
    let row: { termination_reason: string | null } | undefined;
    for (let i = 0; i < 200 && !row?.termination_reason; i++) {
      [row] = await env.db.sql<{ termination_reason: string | null }[]>`
        SELECT termination_reason FROM sessions WHERE user_name = 'alice' ORDER BY id DESC LIMIT 1`;
      if (!row?.termination_reason) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(row?.termination_reason, "expired");

    // after 18:00: a new login is refused, and the audit says why
    clock.set(start + 11 * MIN);
    const late = await ssh({ bind: "127.0.0.10", key: key.path }, env.port, "127.0.0.1", `${U}@web1`, [
      "true",
    ]);
    assert.notEqual(late.code, 0);
    let reasons: unknown[] = [];
    for (let i = 0; i < 200 && !reasons.includes("outside_schedule"); i++) {
      await env.proxy.auditsSettled();
      reasons = (await env.db.sql<{ details: Record<string, unknown> }[]>`
        SELECT details FROM audit_log WHERE action = 'ssh.access_denied' ORDER BY id`).map((r) =>
        r.details.reason
      );
      if (!reasons.includes("outside_schedule")) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(
      reasons.includes("outside_schedule"),
      `denials: ${JSON.stringify(reasons)}; ssh: ${late.stderr}`,
    );

    // the CLI: a malformed schedule is refused clearly, a good one is stored canonical and listed
    const bad = await cli.run([
      "grant",
      "alice",
      "--server",
      "web1",
      "--duration",
      "60",
      "--schedule",
      "Mon-Fry 08:00-18:00 UTC",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /schedule: "Fry" is not a day/);
    const tz = await cli.run([
      "grant",
      "alice",
      "--server",
      "web1",
      "--duration",
      "60",
      "--schedule",
      "Mon 08:00-18:00 Mars/Base",
    ]);
    assert.match(tz.stderr, /"Mars\/Base" is not an IANA time zone/);
    const ok = await cli.ok([
      "grant",
      "alice",
      "--server",
      "web1",
      "--duration",
      "60",
      "--schedule",
      "sat-sun 10:00-12:00 UTC",
      "--schedule",
      "Wed 22:00-02:00 America/New_York",
    ]);
    assert.match(ok, /only Sun,Sat 10:00-12:00 UTC; Wed 22:00-02:00 America\/New_York/);
    const listed = await cli.json<{ schedules: string[] }[]>(["policy", "list"]);
    assert.ok(listed.some((p) => p.schedules.includes("Sun,Sat 10:00-12:00 UTC")));
  } finally {
    await tmux.kill();
    await env.close();
  }
});
