// Browser end to end with the real SSH proxy: a PTY session through the proxy (OpenSSH in tmux → proxy →
// sshd) shows up in the console's live terminal view (xterm.js over SSE) as it happens, is killed from the
// console, and then replays in asciinema-player. Screenshots in tests/artifacts/web-live/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { startWeb } from "../web/mod.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { notifySessionKill } from "../db/notify.ts";
import { hashPassword } from "../policy/password.ts";

async function waitFor<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name:
    "live SSH session: the terminal view follows the session within a second; a logout stops it; kill ends it; replay works",
}, async () => {
  const env = await startSshEnv();
  const tmux = new Tmux("weblive");
  const logs: string[] = [];
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
      dataDir: "/nonexistent",
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: env.recordingsDir,
      ipPool: null,
    },
    {
      sql: env.db.sql,
      nodeId: "test-node",
      log: (level, m) => logs.push(`${level} ${m}`),
      listenerStatus: () => [{ name: "ssh", address: `127.0.0.1:${env.port}`, state: "up" }],
      killSession: async (id, actor) => {
        await notifySessionKill(env.db.sql, { session_id: id, actor });
        return true;
      },
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("web-live");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    await createConsoleUser(env.db.sql, {
      name: "watcher",
      role: "operator",
      passwordHash: await hashPassword("watch-pw-123"),
    }, {
      actor: "test",
    });

    // the dashboard is open before the session starts: its active-sessions table must update by itself
    const page = b.page;
    await consoleLogin(page, base, "watcher", "watch-pw-123");
    await page.waitForSelector("#active-sessions >> text=No active sessions.");
    await b.shot("00-dashboard-idle");

    const c = await clientArgs({ bind: "127.0.0.10", key: alice.path });
    await tmux.start(
      ["ssh", ...c.args, "-tt", "-p", String(env.port), `${env.sshd.user}@web1@127.0.0.1`],
      c.env,
      100,
      30,
    );
    await tmux.waitFor(/this session is recorded/);
    await tmux.type("echo marker-$((6*7))\n");
    await tmux.waitFor(/^marker-42$/m);
    const [row] = await waitFor(
      "the recording row",
      async () =>
        (await env.db.sql<
            { session_id: string }[]
          >`SELECT s.session_id FROM sessions s JOIN recordings r ON r.session_id = s.id
        WHERE s.is_active`).length
          ? await env.db.sql<{ session_id: string }[]>`SELECT session_id FROM sessions WHERE is_active`
          : null,
    );

    // htmx polls every 5 s; no reload happens in between
    await page.waitForSelector(`#active-sessions [data-session="${row.session_id}"]`, { timeout: 8000 });
    await b.shot("01-dashboard-active");

    await page.click(`#active-sessions [data-session="${row.session_id}"] a`);
    await page.waitForSelector("#live-term .xterm-rows");
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent === "live");
    const termText = () =>
      page.evaluate(() => document.querySelector("#live-term .xterm-rows")?.textContent ?? "");
    await waitFor("the backlog in the terminal", async () => (await termText()).includes("marker-42"));

    // new output reaches the browser's terminal in under a second
    const t0 = Date.now();
    await tmux.type("echo live-$((20+22))\n");
    await waitFor("live output", async () => (await termText()).includes("live-42"), 5000);
    const latency = Date.now() - t0;
    assert.ok(latency < 1000, `live view latency ${latency} ms`);
    await b.shot("02-live-view");

    // logging out in another tab stops this live view at once, with a message instead of reconnects
    const other = await b.ctx.newPage();
    await other.goto(`${base}/`);
    await other.click("#logout");
    await other.waitForURL(/\/login\?bye=1/);
    await page.waitForFunction(() =>
      (document.getElementById("live-status")?.textContent ?? "").includes("your console session ended")
    );
    await b.shot("02b-live-view-logged-out");
    await other.fill("#name", "watcher");
    await other.fill("#password", "watch-pw-123");
    await other.click("#login-submit");
    await other.waitForURL(`${base}/`);
    await other.close();
    await page.reload(); // the new session's CSRF token
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent === "live");

    // kill from the console: the proxy ends the session
    await page.click("#kill");
    await page.waitForURL(/killed=1/);
    await tmux.waitFor(/\[exit \d+\]/);
    const [ended] = await waitFor("the session to close", async () => {
      const r = await env.db.sql<{ termination_reason: string | null; is_active: boolean }[]>`
        SELECT termination_reason, is_active FROM sessions WHERE session_id = ${row.session_id}`;
      return r[0] && !r[0].is_active ? r : null;
    });
    assert.equal(ended.termination_reason, "killed");
    const [audit] = await env.db.sql<
      { actor: string }[]
    >`SELECT actor FROM audit_log WHERE action = 'session.kill'`;
    assert.equal(audit.actor, "console:watcher");

    // the ended session replays in asciinema-player
    await page.goto(`${base}/sessions/${row.session_id}`);
    await page.waitForSelector("#player[data-state=created]");
    await page.waitForSelector("#player .ap-player, #player .ap-wrapper");
    await b.shot("03-replay");
    // play: the recorded output appears in the player's terminal
    await page.click("#player .ap-overlay-start");
    await page.waitForFunction(() =>
      (document.querySelector("#player .ap-term")?.textContent ?? "").includes("live-42")
    );
    await page.waitForSelector("#player .ap-overlay-error", { state: "detached" });
    await b.shot("04-replay-played");
    const cast = await page.evaluate(
      async (u) => (await fetch(u)).text(),
      `/sessions/${row.session_id}/cast`,
    );
    assert.match(cast, /^\{"version":\s*2/);
    assert.match(cast, /live-42/);
    assert.deepEqual(b.errors, [], "no script errors or CSP violations");
  } finally {
    await b.close();
    await tmux.kill();
    await web.stop();
    await env.close();
  }
});
