// Accessibility of every console page, in Chromium with axe-core (WCAG 2 A/AA): an admin visits each page
// of the navigation, the detail page behind the first row of each list, the policy wizard, an SSH and an
// RDP session page, the account page and the login page, on a real database with data in every table the
// pages show (users, servers, groups, a policy, sessions, audit rows, a pending access request). No page may
// have a serious or critical violation.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { startWeb } from "../web/mod.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { closeSession, openSession } from "../db/sessions.ts";
import { createAccessRequest } from "../db/access_requests.ts";

Deno.test("console pages pass axe-core in Chromium: no serious or critical violation on any page", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url, { JUMPHOST_IP_POOL: "127.0.7.0/29" });
  const dataDir = await Deno.makeTempDir({ prefix: "jh-axe-" });
  const web = await startWeb(
    {
      webListen: [{ host: "127.0.0.1", port: 0 }],
      dataDir,
      webTlsCert: null,
      webTlsKey: null,
      recordingsDir: "/nonexistent",
      ipPool: "127.0.7.0/29",
    },
    {
      sql: db.sql,
      nodeId: "axe-node",
      log: () => {},
      listenerStatus: () => [{ name: "ssh", address: "127.0.0.1:2222", state: "up" as const }],
      killSession: () => Promise.resolve(false),
    },
  );
  const base = `http://127.0.0.1:${web.addresses[0].port}`;
  const b = await openBrowser("axe");
  try {
    await cli.ok(["user", "add", "alice", "--source-ip", "127.0.0.10"]);
    await cli.ok(["server", "add", "web1", "127.0.0.1"]);
    await cli.ok(["server", "add", "win1", "127.0.0.2", "--protocols", "rdp"]);
    await cli.ok(["group", "add", "linux"]);
    await cli.ok(["group", "member", "add", "linux", "web1"]);
    const policy = await cli.json<{ id: number }>(
      ["grant", "alice", "--server", "web1", "--login", "root", "--duration", "60"],
    );
    // a denial in the audit log
    await cli.run(["access", "check", "--source-ip", "127.0.0.99", "--server", "web1"]);
    await createConsoleUser(db.sql, {
      name: "ada",
      role: "admin",
      passwordHash: await hashPassword("ada-pw-123456"),
    }, { actor: "test" });
    const ids = await db.sql<{ u: number; s: number; r: number }[]>`
      SELECT (SELECT id FROM users WHERE name = 'alice') AS u, (SELECT id FROM servers WHERE name = 'web1') AS s,
             (SELECT id FROM servers WHERE name = 'win1') AS r`;
    const session = (sessionId: string, protocol: "ssh" | "rdp", serverId: number, serverName: string) =>
      openSession(db.sql, {
        sessionId,
        userId: ids[0].u,
        serverId,
        userName: "alice",
        serverName,
        protocol,
        sourceIp: "127.0.0.10",
        proxyIp: null,
        backendIp: "127.0.0.1",
        backendPort: protocol === "ssh" ? 22 : 3389,
        sshLogin: protocol === "ssh" ? "root" : null,
        policyId: policy.id,
        nodeId: "axe-node",
        metadata: {},
      });
    const closed = await session("axe-ssh-closed", "ssh", ids[0].s, "web1");
    await closeSession(db.sql, closed, {
      reason: "normal",
      detail: null,
      recordingPath: null,
      recordingSize: null,
      endedAt: new Date(),
    });
    await session("axe-ssh-live", "ssh", ids[0].s, "web1");
    await session("axe-rdp-closed", "rdp", ids[0].r, "win1");
    await createAccessRequest(db.sql, {
      userId: ids[0].u,
      userName: "alice",
      serverName: "win1",
      protocol: "rdp",
      logins: ["alice"],
      minutes: 30,
      reason: "patch day",
      sourceIp: "127.0.0.10",
      via: "portal",
      waitMinutes: 10,
    });

    const page = b.page;
    const checked: string[] = [];
    const failures: string[] = [];
    const check = async (path: string) => {
      const resp = await page.goto(`${base}${path}`);
      assert.ok(resp && resp.status() < 400, `${path}: HTTP ${resp?.status()}`);
      await page.waitForLoadState("networkidle");
      const serious = (await axeViolations(page)).filter((v) =>
        v.impact === "serious" || v.impact === "critical"
      );
      for (const v of serious) failures.push(`${path}: ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
      checked.push(path);
    };

    await check("/login");
    await page.fill("#name", "ada");
    await page.fill("#password", "ada-pw-123456");
    await page.click("#login-submit");
    await page.waitForURL(`${base}/`);

    const nav = await page.$$eval("header nav a", (as) => as.map((a) => a.getAttribute("href")!));
    assert.ok(nav.length >= 12, `the admin's navigation: ${nav.join(" ")}`);
    const details: string[] = [];
    for (const href of nav) {
      await check(href);
      // the first detail link of a list page, e.g. /users/1
      const first = await page.$$eval(
        "main a[href]",
        (as, prefix) =>
          as.map((a) => a.getAttribute("href")!).find((h) =>
            prefix !== "/" && h.startsWith(prefix + "/") && /\/\w+$/.test(h) && !h.endsWith("/new")
          ) ?? null,
        href,
      );
      if (first) details.push(first);
    }
    for (const d of new Set(details)) await check(d);
    const sessionPages = ["/sessions/axe-ssh-live", "/sessions/axe-ssh-closed", "/sessions/axe-rdp-closed"];
    for (const p of ["/policies/new", ...sessionPages, "/account"]) await check(p);

    for (const prefix of ["/users/", "/servers/", "/groups/", "/policies/", "/requests/"]) {
      assert.ok(checked.some((c) => c.startsWith(prefix)), `a ${prefix}… detail page was checked`);
    }
    assert.deepEqual(failures, [], `serious violations on ${checked.length} pages`);
    assert.deepEqual(b.errors, [], "no script errors or CSP violations");
  } finally {
    await b.close();
    await web.stop();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
