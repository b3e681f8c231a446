// Browser end to end: a user without a grant asks for access at the SSH prompt (OpenSSH in tmux → proxy → sshd);
// an approver sees it appear in the console's Requests queue (htmx polling, nav badge) in Chromium, approves it
// with shortened minutes, and the same SSH connection lands in the backend shell. Screenshots in
// tests/artifacts/requests/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { CLIENT_OPTS } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { startWeb } from "../web/mod.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";

Deno.test("access request approved in the console (Chromium): the waiting SSH session reaches the shell", async () => {
  const env = await startSshEnv({ requestWaitMs: 120_000 });
  const tmux = new Tmux("reqweb");
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
      log: () => {},
      listenerStatus: () => [{ name: "ssh", address: `127.0.0.1:${env.port}`, state: "up" }],
      killSession: () => Promise.resolve(false),
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("requests");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.22", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.reloadPolicy();
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    await createConsoleUser(env.db.sql, {
      name: "olga",
      role: "operator",
      passwordHash: await hashPassword("olga-pw-12345"),
    }, { actor: "test" });

    const page = b.page;
    await consoleLogin(page, base, "olga", "olga-pw-12345");
    await page.goto(`${base}/requests`);
    await page.waitForSelector("#requests-queue >> text=No pending requests.");

    const U = env.sshd.user;
    await tmux.start([
      "ssh",
      ...CLIENT_OPTS,
      "-o",
      "BindAddress=127.0.0.22",
      "-o",
      "BatchMode=no",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      alice.path,
      "-tt",
      "-p",
      String(env.port),
      `${U}@web1@127.0.0.1`,
    ]);
    await tmux.waitFor(/Request access\? Minutes, reason/);
    await tmux.type("45, the <b>disk</b> is full\n");
    const s = await tmux.waitFor(/request (\d+) sent; waiting for approval/);
    const id = /request (\d+) sent/.exec(s)![1];

    // the queue shows it without a reload (polling), and the nav badge counts it
    await page.waitForSelector(`#requests-queue [data-request="${id}"]`, { timeout: 10_000 });
    await page.waitForFunction(
      () => document.getElementById("nav-count-requests")?.textContent === "1",
      null,
      {
        timeout: 20_000,
      },
    );
    const row = await page.textContent(`#requests-queue [data-request="${id}"]`);
    assert.match(row ?? "", /alice.*web1.*the <b>disk<\/b> is full/s, "the reason is shown as text");
    await b.shot("01-queue");
    const serious = async () =>
      (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(await serious(), [], "the queue passes axe-core");
    await page.click(`#decide-${id}`);
    await page.waitForSelector("#approve-form");
    await page.fill("#approve-form #f-minutes", "15");
    await page.fill("#approve-form #f-note", "go ahead");
    await b.shot("02-decide");
    assert.deepEqual(await serious(), [], "the decide page passes axe-core");
    await page.click("#approve");
    await page.waitForURL(/\/requests\?done=/);
    assert.match(
      await page.textContent(".flash") ?? "",
      new RegExp(`Request ${id} approved: 15 min as ${U}`),
    );
    await b.shot("03-approved");

    await tmux.waitFor(new RegExp(`request ${id} approved`), 15_000);
    await tmux.waitFor(/this session is recorded/, 15_000);
    await tmux.type("echo via-console-$((6*7))\n");
    await tmux.waitFor(/via-console-42/);
    await tmux.type("exit\n");
    await tmux.waitFor(/\[exit 0\]/);
    const [{ actor }] = await env.db.sql<{ actor: string }[]>`
      SELECT actor FROM audit_log WHERE action = 'request.approved'`;
    assert.equal(actor, "console:olga");
    const [pol] = await env.db.sql<{ minutes: number }[]>`
      SELECT round(extract(epoch FROM valid_until - valid_from) / 60)::int AS minutes FROM policies
      WHERE access_request_id = ${Number(id)}`;
    assert.equal(pol.minutes, 15);
    assert.deepEqual(b.errors, [], "no script errors or CSP violations");
  } finally {
    await b.close();
    await tmux.kill();
    await web.stop();
    await env.close();
  }
});
