// "Who ran it" end to end: commands typed in a real terminal (OpenSSH in tmux → the real `serve` → sshd) are
// indexed when the session ends; an auditor searches for one on the console's Search page in Chromium, and
// the hit opens the replay at that moment: the player shows what was on screen then, not what came later.
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { consoleLogin, openBrowser } from "./helpers/chromium.ts";
import { axeViolations } from "./helpers/axe.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";

Deno.test("search page in Chromium: a typed command is found and opens the replay at its moment", async () => {
  const env = await startServeEnv();
  const tmux = new Tmux("search");
  const b = await openBrowser("search_console");
  try {
    for (let i = 0; i < 150 && !(await env.healthz().then(() => true).catch(() => false)); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const c = await clientArgs(env.client);
    await tmux.start(
      ["ssh", ...c.args, "-tt", "-p", String(env.ports.ssh), `${env.target}@127.0.0.1`],
      c.env,
    );
    await tmux.waitFor(/this session is recorded/);
    const run = async (line: string, expect: RegExp) => {
      await tmux.type(line);
      await tmux.keys("Enter");
      await tmux.waitFor(expect);
      // seconds apart, so the replay's moments are distinct
      await new Promise((r) => setTimeout(r, 2500));
    };
    await run("echo before-$((10+1))", /before-11/);
    await run("echo needle-$((40+2))", /needle-42/);
    await run("echo after-$((90+9))", /after-99/);
    await tmux.type("exit");
    await tmux.keys("Enter");
    await tmux.waitFor(/\[exit \d+\]/);
    // a file moved by scp through the proxy is found by its name too
    const dir = await Deno.makeTempDir({ prefix: "jh-search-scp-" });
    await Deno.writeTextFile(`${dir}/needle-report.csv`, "a,b\n1,2\n");
    const scp = await new Deno.Command("scp", {
      args: [
        ...c.args,
        "-P",
        String(env.ports.ssh),
        `${dir}/needle-report.csv`,
        `${env.target}@127.0.0.1:/tmp/`,
      ],
      env: c.env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(scp.code, 0, new TextDecoder().decode(scp.stderr));
    await Deno.remove(dir, { recursive: true });
    await createConsoleUser(env.db.sql, {
      name: "audrey",
      role: "auditor",
      passwordHash: await hashPassword("pw-audrey-1"),
    }, {
      actor: "test",
    });
    // the index is written when the session ends
    for (let i = 0; i < 100; i++) {
      const [{ n }] = await env.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM session_commands`;
      if (n >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const base = `http://127.0.0.1:${env.ports.web}`;
    const page = b.page;
    await consoleLogin(page, base, "audrey", "pw-audrey-1");
    await page.goto(`${base}/search`);
    await page.fill("input[name=q]", "needle-$((40");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/search\?.*q=needle/);
    const results = (await page.textContent("main"))!;
    assert.match(results, /echo needle-\$\(\(40\+2\)\)/);
    assert.match(results, /web1/);
    assert.match(results, /wendy/);
    assert.doesNotMatch(results, /after-\$/);
    assert.deepEqual(
      (await axeViolations(page)).filter((v) => v.impact === "serious" || v.impact === "critical"),
      [],
    );
    await page.fill("input[name=q]", "needle-report");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/search\?.*q=needle-report/);
    const files = (await page.textContent("main"))!;
    assert.match(files, /file/);
    // OpenSSH's scp speaks SFTP: a write of the file, with the SHA-256 of what passed
    const sha = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("a,b\n1,2\n"))),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assert.ok(files.includes(`sftp write /tmp/needle-report.csv sha256:${sha}`), files);
    await page.goBack();
    await page.waitForURL(/\/search\?.*q=needle-%24/);
    const link = page.locator("a[href*='?t=']").first();
    const href = (await link.getAttribute("href"))!;
    const t = Number(new URL(href, base).searchParams.get("t"));
    assert.ok(t >= 1 && t < 20, `the hit opens at ${t} s`);
    await link.click();
    await page.waitForSelector("[data-player][data-state=created]");
    // the player, opened at the hit (a second before the line), shows the earlier command, not the later one
    // (the poster: the screen at that moment, drawn before play is pressed)
    await page.waitForFunction(() =>
      /before-11/.test(document.querySelector("[data-player]")?.textContent ?? "")
    );
    const screen = (await page.textContent("[data-player]"))!;
    assert.match(screen, /before-11/);
    assert.doesNotMatch(screen, /after-99/);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await tmux.kill();
    await env.close();
  }
});
