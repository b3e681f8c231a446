// e2e: a checkout's first start has no console account. `serve` says so in its log with the command that
// makes one, and the console's login page says so too; once an admin exists (made with that command),
// neither does.
import assert from "node:assert/strict";
import { cliFor, MAIN } from "./helpers/cli.ts";
import { spawnCollected } from "./helpers/process.ts";
import { freePort } from "./helpers/sshd.ts";
import { createTestDb } from "./helpers/test_db.ts";

Deno.test("serve logs, and the login page shows, how to create the first console admin until one exists", async () => {
  const db = await createTestDb();
  const dataDir = await Deno.makeTempDir({ prefix: "jh-first-admin-" });
  const web = freePort();
  const start = () =>
    spawnCollected(Deno.execPath(), [
      "run",
      "-A",
      MAIN,
      "serve",
      ...["--data-dir", dataDir, "--database-url", db.url, "--log-level", "info"],
      ...["--ssh-listen", `127.0.0.1:${freePort()}`, "--rdp-listen", `127.0.0.1:${freePort()}`],
      ...["--web-listen", `127.0.0.1:${web}`],
    ]);
  const loginPage = async () => await (await fetch(`http://127.0.0.1:${web}/login`)).text();
  const noticeLines = (output: string) =>
    output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
      .filter((l) => /no console admin/.test(l.msg));
  try {
    let serve = start();
    try {
      await serve.waitFor(/"msg":"ready"/, 60_000);
      await serve.waitFor(/no console admin exists/, 5_000);
      const [line] = noticeLines(serve.output());
      assert.equal(line.level, "warn");
      assert.equal(line.command, "deno task cli admin add admin", "a checkout runs the CLI with deno task");
      assert.match(line.msg, /create one with `deno task cli admin add admin`/);
      assert.match(
        await loginPage(),
        /No console admin exists yet[^]*<code>deno task cli admin add admin<\/code>/,
      );

      // the command given, run against the same database, makes the admin: the page stops saying so
      const out = await cliFor(db.url).ok(["admin", "add", "admin"]);
      assert.match(out, /console user admin created with role admin/);
      assert.doesNotMatch(await loginPage(), /No console admin/);
    } finally {
      assert.equal((await serve.stop()).code, 0, serve.output().slice(-2000));
    }
    // and the next start does not log it
    serve = start();
    try {
      await serve.waitFor(/"msg":"ready"/, 60_000);
      // the notice would follow "ready" at once; give it the time it took the first start
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(noticeLines(serve.output()), []);
    } finally {
      assert.equal((await serve.stop()).code, 0, serve.output().slice(-2000));
    }
  } finally {
    await db.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
