// e2e (OpenSSH → proxy → real sshd, then the real CLI): what a user typed in a terminal and ran by exec is
// found by `jumphost search`, with who, where and the moment in the recording; reindex rebuilds the same.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { cliFor } from "./helpers/cli.ts";

interface Hit {
  user_name: string;
  server_name: string;
  ssh_login: string;
  kind: string;
  text: string;
  offset_seconds: number | null;
  session_id: string;
}

Deno.test("search: typed and exec commands and terminal output are found with user, server, login and their moment", async () => {
  const env = await startSshEnv();
  const tmux = new Tmux("search");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
    const U = env.sshd.user;
    const c = await clientArgs(me);
    await tmux.start(["ssh", ...c.args, "-tt", "-p", String(env.port), `${U}@web1@127.0.0.1`], c.env);
    await tmux.waitFor(/this session is recorded/);
    await new Promise((r) => setTimeout(r, 1500)); // the line is typed a while into the recording
    for (const ch of "echo needle-typed-$((40+2))") {
      await tmux.type(ch);
      await new Promise((r) => setTimeout(r, 20));
    }
    await tmux.keys("Enter");
    await tmux.waitFor(/needle-typed-42/);
    await tmux.type("exit\n");
    await tmux.waitFor(/\[exit \d+\]/);
    const r = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo needle-exec-$((2*3))"]);
    assert.equal(r.stdout, "needle-exec-6\n", r.stderr);
    const cli = cliFor(env.db.url);
    let hits: Hit[] = [];
    for (let i = 0; i < 100 && hits.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      hits = (await env.db.sql`SELECT DISTINCT kind FROM session_commands WHERE kind IN ('exec', 'typed')`)
          .length === 2
        ? await cli.json<Hit[]>(["search", "NEEDLE", "--since", "1h"])
        : [];
    }
    // what the terminals showed is indexed too: the typed command's output, after the line was typed
    const shown = hits.filter((h) => h.kind === "output");
    const result = shown.find((h) => h.text === "needle-typed-42");
    assert.ok(result, `output lines: ${JSON.stringify(shown.map((h) => h.text))}`);
    assert.ok(shown.some((h) => h.text === "needle-exec-6"), "an exec channel's output is indexed too");
    hits = hits.filter((h) => h.kind !== "output");
    assert.ok(result.offset_seconds! > hits[1].offset_seconds!, "the output comes after the typed line");
    assert.deepEqual(hits.map((h) => [h.kind, h.text, h.user_name, h.server_name, h.ssh_login]), [
      ["exec", "echo needle-exec-$((2*3))", "alice", "web1", U],
      ["typed", "echo needle-typed-$((40+2))", "alice", "web1", U],
    ]);
    const typed = hits[1];
    assert.ok(typed.offset_seconds! > 1.4 && typed.offset_seconds! < 30, `offset ${typed.offset_seconds}`);
    // the table form, and reindex gives the same rows
    assert.match(
      await cli.ok(["search", "needle-typed"]),
      /alice\s+web1\s+\S+\s+\S+\s+typed\s+echo needle-typed/,
    );
    assert.match(await cli.ok(["search", "reindex"]), /^indexed \d+ commands of 2 sessions/);
    assert.deepEqual(
      (await cli.json<Hit[]>(["search", "needle"])).filter((h) => h.kind !== "output")
        .map((h) => [h.kind, h.text, h.offset_seconds]),
      hits.map((h) => [h.kind, h.text, h.offset_seconds]),
    );
    assert.equal((await cli.run(["search", "  "])).code, 2, "an empty search is a usage error");
    const short = await cli.run(["search", "zq"]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 3 characters/);
  } finally {
    await tmux.kill();
    await env.close();
  }
});
