// e2e (OpenSSH client in a real terminal → proxy → real sshd): what a user types where the terminal does not
// echo it never reaches the recording. A real `sudo` password prompt and a real `passwd` change, typed in a
// tmux pane; the .cast file must not hold the passwords in any form, while the commands typed at the shell
// prompt are there as typed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { TEST_OS_PASSWORD, TEST_OS_USER } from "./helpers/sshd.ts";

const haveSudo = (() => {
  try {
    return Deno.statSync("/usr/bin/sudo").isFile;
  } catch (_e) {
    return false;
  }
})();
const SUDOERS = "/etc/sudoers.d/jh-secret-mask-test";
const NEW_PASSWORD = "Nw-secret-4417-xq";

async function run(cmd: string, args: string[], stdin?: string) {
  const c = new Deno.Command(cmd, { args, stdin: stdin ? "piped" : "null", stdout: "piped", stderr: "piped" })
    .spawn();
  if (stdin) {
    const w = c.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const r = await c.output();
  if (!r.success) throw new Error(`${cmd}: ${new TextDecoder().decode(r.stderr)}`);
}

Deno.test({
  name: "ssh terminal: sudo and passwd passwords are masked in the recording, commands are kept",
  ignore: !haveSudo,
  async fn() {
    // sudo asks the test user for their password every time
    await Deno.writeTextFile(
      SUDOERS,
      `Defaults:${TEST_OS_USER} timestamp_timeout=0\n${TEST_OS_USER} ALL=(ALL) ALL\n`,
      { mode: 0o440 },
    );
    const env = await startSshEnv();
    const tmux = new Tmux("mask");
    try {
      const alice = await env.key("alice");
      await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
      await env.addServer("web1");
      await env.grant("alice", "web1");
      const pub = await env.applianceKey("web1");
      await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
      const c = await clientArgs({ bind: "127.0.0.10", key: alice.path });
      await tmux.start(
        ["ssh", ...c.args, "-tt", "-p", String(env.port), `${TEST_OS_USER}@web1@127.0.0.1`],
        c.env,
      );
      await tmux.waitFor(/this session is recorded/);
      const typeSlowly = async (text: string) => {
        for (const ch of text) {
          await tmux.type(ch);
          await new Promise((r) => setTimeout(r, 30));
        }
      };
      await typeSlowly("echo marker-$((40+2))");
      await tmux.keys("Enter");
      await tmux.waitFor(/marker-42/);
      await typeSlowly("sudo -k id -u");
      await tmux.keys("Enter");
      await tmux.waitFor(/\[sudo\] password for/);
      await typeSlowly(TEST_OS_PASSWORD);
      await tmux.keys("Enter");
      await tmux.waitFor(/^0$/m);
      await typeSlowly("passwd");
      await tmux.keys("Enter");
      await tmux.waitFor(/Current password: ?$/m);
      await typeSlowly(TEST_OS_PASSWORD);
      await tmux.keys("Enter");
      await tmux.waitFor(/New password: ?$/m);
      await typeSlowly(NEW_PASSWORD);
      await tmux.keys("Enter");
      await tmux.waitFor(/Retype new password: ?$/m);
      await typeSlowly(NEW_PASSWORD);
      await tmux.keys("Enter");
      await tmux.waitFor(/password updated successfully/);
      await typeSlowly("exit");
      await tmux.keys("Enter");
      await tmux.waitFor(/\[exit \d+\]/);
      await env.proxy.auditsSettled();
      const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings`;
      let cast = "";
      for (let i = 0; i < 50 && !cast.includes('"exit'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        cast = await Deno.readTextFile(rec.path);
      }
      const inputs = cast.trim().split("\n").slice(1).map((l) => JSON.parse(l)).filter((e) => e[1] === "i")
        .map((e) => e[2]).join("");
      // every event's text (output and input) and the header, parsed: timestamps left out, since a piece made
      // only of digits ("4417") may well be part of one (1.544172) — it failed that way on a fresh machine
      const lines = cast.trim().split("\n");
      const texts = [lines[0], ...lines.slice(1).map((l) => String(JSON.parse(l)[2]))].join("\n");
      for (const secret of [TEST_OS_PASSWORD, NEW_PASSWORD]) {
        // any piece longer than 3 characters: in the events' text, and (unless all digits) in the file as
        // written, JSON-escaped or not
        for (let i = 0; i + 4 <= secret.length; i++) {
          const piece = secret.slice(i, i + 4);
          assert.ok(!texts.includes(piece), `"${piece}" of a password is in the recording's text`);
          if (!/^\d+$/.test(piece)) {
            assert.ok(!cast.includes(piece), `"${piece}" of a password is in the recording`);
          }
          assert.ok(!inputs.includes(piece), `"${piece}" of a password is in the input events`);
        }
      }
      assert.match(inputs, /echo marker-\$\(\(40\+2\)\)\r/, "the commands typed at the prompt are kept");
      assert.match(inputs, /sudo -k id -u\r/);
      assert.match(inputs, /passwd\r/);
      assert.ok(
        inputs.includes("*".repeat(TEST_OS_PASSWORD.length) + "\r"),
        "the replay shows a password was typed",
      );
      assert.ok(inputs.includes("*".repeat(NEW_PASSWORD.length) + "\r"));
    } finally {
      await tmux.kill();
      await env.close();
      await Deno.remove(SUDOERS).catch(() => {});
      await run("chpasswd", [], `${TEST_OS_USER}:${TEST_OS_PASSWORD}\n`);
    }
  },
});
