// Browser end to end with recording_encryption = age: a PTY session through the real SSH proxy (OpenSSH in
// tmux → proxy → sshd) is recorded to an encrypted `.cast.age`; the console's live terminal view follows it
// as it happens (the writer seals what it has every second) and, once it has ended, asciinema-player replays
// it, both decrypted by the console with the appliance's identity. Screenshots in tests/artifacts/web-live-age/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { startWeb } from "../web/mod.ts";
import { createConsoleUser } from "../db/console_users.ts";
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

Deno.test("encrypted recording: the console's live view follows it and the player replays it", async () => {
  const env = await startSshEnv({ encryptRecordingsTo: [] });
  const tmux = new Tmux("weblage");
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
      dataDir: env.dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: env.recordingsDir,
      ipPool: null,
    },
    {
      sql: env.db.sql,
      nodeId: "test-node",
      log: () => {},
      listenerStatus: () => [{ name: "ssh", address: `127.0.0.1:${env.port}`, state: "up" }],
      killSession: () => Promise.resolve(false),
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("web-live-age");
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
    }, { actor: "test" });

    const c = await clientArgs({ bind: "127.0.0.10", key: alice.path });
    await tmux.start(
      ["ssh", ...c.args, "-tt", "-p", String(env.port), `${env.sshd.user}@web1@127.0.0.1`],
      c.env,
    );
    await tmux.waitFor(/this session is recorded/);
    await tmux.type("echo marker-$((6*7))\n");
    await tmux.waitFor(/^marker-42$/m);
    const [row] = await waitFor("the recording row", async () => {
      const r = await env.db.sql<{ session_id: string; path: string }[]>`
        SELECT s.session_id, r.path FROM sessions s JOIN recordings r ON r.session_id = s.id WHERE s.is_active`;
      return r.length ? r : null;
    });
    assert.match(row.path, /\.cast\.age$/);

    const page = b.page;
    await consoleLogin(page, base, "watcher", "watch-pw-123");
    await page.goto(`${base}/sessions/${row.session_id}`);
    await page.waitForSelector("#live-term .xterm-rows");
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent === "live");
    const termText = () =>
      page.evaluate(() => document.querySelector("#live-term .xterm-rows")?.textContent ?? "");
    await waitFor("the backlog in the terminal", async () => (await termText()).includes("marker-42"));

    // new output reaches the browser within the writer's one-second seal plus the poll
    const t0 = Date.now();
    await tmux.type("echo live-$((20+22))\n");
    await waitFor("live output", async () => (await termText()).includes("live-42"), 5000);
    const latency = Date.now() - t0;
    assert.ok(latency < 2500, `live view latency ${latency} ms`);
    await b.shot("01-live-view");

    await tmux.type("exit\n");
    await tmux.waitFor(/\[exit \d+\]/);
    await waitFor("the session to close", async () => {
      const r = await env.db
        .sql`SELECT 1 FROM sessions WHERE session_id = ${row.session_id} AND NOT is_active`;
      return r.length > 0;
    });

    await page.goto(`${base}/sessions/${row.session_id}`);
    await page.waitForSelector("#player[data-state=created]");
    await page.click("#player .ap-overlay-start");
    await page.waitForFunction(() =>
      (document.querySelector("#player .ap-term")?.textContent ?? "").includes("live-42")
    );
    await page.waitForSelector("#player .ap-overlay-error", { state: "detached" });
    await b.shot("02-replay-played");
    assert.deepEqual(b.errors, [], "no script errors or CSP violations");
  } finally {
    await b.close();
    await tmux.kill();
    await web.stop();
    await env.close();
  }
});
