// e2e: passwords typed at prompts that do not echo never reach the recording. A real OpenSSH client in a
// terminal (tmux) → the proxy → a real sshd; a real `sudo` password prompt and `passwd` changing a test
// user's password. The typed passwords must not be in the .cast file in any form; the commands typed at the
// shell prompt must be, and the terminal output is untouched.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { createOsUser, startSshd } from "./helpers/sshd.ts";
import { clientArgs, type ClientId } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { asciinema } from "./helpers/asciinema.ts";
import { MASK_MARKER } from "../recorder/echo_mask.ts";

const LOGIN = "jhmask";

function randomSecret(tag: string): string {
  // a backslash and a quote: JSON escapes them, so the escaped forms are checked too
  return `Zq${tag}\\"${crypto.randomUUID().slice(0, 8)}-Kx7`;
}

/** every form a secret could take in the raw file: as is, JSON-escaped, \\u-escaped */
function forms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const u = [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
  return [secret, json, u, secret.slice(0, 6), json.slice(0, 8)];
}

Deno.test("recordings mask what is typed at sudo and passwd prompts, and keep the commands", async () => {
  const oldPw = randomSecret("o");
  const newPw = randomSecret("n");
  const user = await createOsUser(LOGIN, oldPw, { sudoCommand: "/usr/bin/id" });
  const backend = await startSshd({ overrideConfig: [`AllowUsers ${LOGIN}`] });
  const env = await startSshEnv();
  const tmux = new Tmux("mask");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1", { sshd: backend });
    await env.grant("alice", "web1", { logins: [LOGIN] });
    const pub = await env.applianceKey("web1");
    const auth = join(backend.dir, "authorized", LOGIN);
    await Deno.writeTextFile(auth, pub + "\n");
    await Deno.chmod(auth, 0o644);
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };
    const c = await clientArgs(me);
    await tmux.start(
      ["ssh", ...c.args, "-tt", "-p", String(env.port), `${LOGIN}@web1@127.0.0.1`],
      c.env,
      100,
      30,
    );
    await tmux.waitFor(/this session is recorded/);
    await tmux.waitFor(/\$ $/m);

    // commands typed key by key at the shell prompt, as a person does
    for (const ch of "echo typed-$((40+2))") {
      await tmux.type(ch);
      await new Promise((r) => setTimeout(r, 15));
    }
    await tmux.keys("Enter");
    await tmux.waitFor(/^typed-42$/m);

    // sudo: the password arrives in one piece with Enter (paste, or a fast typist)
    await tmux.type("sudo -k; sudo /usr/bin/id -u\n");
    await tmux.waitFor(/\[sudo\] password for jhmask: $/m);
    await tmux.type(oldPw + "\n");
    await tmux.waitFor(/^0$/m);

    // passwd: the current password key by key, the new one pasted twice
    await tmux.type("passwd\n");
    await tmux.waitFor(/Current password: $/m);
    for (const ch of oldPw) {
      await tmux.type(ch);
      await new Promise((r) => setTimeout(r, 10));
    }
    await tmux.keys("Enter");
    await tmux.waitFor(/New password: $/m);
    await tmux.type(newPw + "\n");
    await tmux.waitFor(/Retype new password: $/m);
    await tmux.type(newPw + "\n");
    await tmux.waitFor(/password updated successfully/);
    // vim: text typed in insert mode appears as typed; normal-mode keys do not (masked, documented)
    await tmux.type("vi -N mask-vim.txt\n");
    await tmux.waitFor(/mask-vim\.txt/);
    await new Promise((r) => setTimeout(r, 300));
    await tmux.type("i");
    await new Promise((r) => setTimeout(r, 300));
    for (const ch of "hello-vim") {
      await tmux.type(ch);
      await new Promise((r) => setTimeout(r, 30));
    }
    await tmux.keys("Escape");
    await new Promise((r) => setTimeout(r, 300));
    await tmux.type(":wq\n");
    await tmux.waitFor(/\$ $/m);
    await tmux.type("echo done-$((1+1)); exit\n");
    await tmux.waitFor(/\[exit 0\]/);

    // the password really changed: passwd did its work on the real system
    const shadow = await Deno.readTextFile("/etc/shadow");
    assert.ok(shadow.split("\n").some((l) => l.startsWith(`${LOGIN}:$`)));

    const path = await waitRecording(env);
    const raw = await Deno.readTextFile(path);
    for (const secret of [oldPw, newPw]) {
      for (const f of forms(secret)) assert.ok(!raw.includes(f), `the recording contains ${f}`);
    }
    const events = raw.trim().split("\n").slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    const typed = events.filter((e) => e[1] === "i").map((e) => e[2]).join("");
    for (const secret of [oldPw, newPw]) assert.ok(!typed.includes(secret), "input events spell a password");
    // what was typed is shown as one * per character, Enter kept
    assert.ok(typed.includes("*".repeat(oldPw.length) + "\r"), JSON.stringify(typed));
    assert.ok(typed.includes("*".repeat(newPw.length) + "\r"), JSON.stringify(typed));
    // vim drew them as typed: kept (vim's showcmd even shows normal-mode keys such as the `i`)
    assert.ok(typed.includes("hello-vim\x1b:wq"), JSON.stringify(typed));
    // the replay's timeline marks where something was typed without echo: sudo's prompt and passwd's three
    assert.equal(events.filter((e) => e[1] === "m" && e[2] === MASK_MARKER).length, 4);
    // the commands typed at the shell prompt are kept as typed
    for (
      const cmd of [
        "echo typed-$((40+2))",
        "sudo -k; sudo /usr/bin/id -u",
        "passwd",
        "echo done-$((1+1)); exit",
      ]
    ) {
      assert.ok(typed.includes(cmd), `${cmd} missing from ${JSON.stringify(typed)}`);
    }
    // times stay in order, and the output is untouched
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i][0] >= events[i - 1][0], `event ${i} out of order`);
    }
    const played = await asciinema("cat", path);
    assert.match(played, /\[sudo\] password for jhmask/);
    assert.match(played, /typed-42/);
    assert.match(played, /Retype new password/);
    assert.match(played, /done-2/);
  } finally {
    await tmux.kill();
    await env.close();
    await backend.stop();
    await user.remove();
  }
});

async function waitRecording(env: Awaited<ReturnType<typeof startSshEnv>>): Promise<string> {
  const until = Date.now() + 10_000;
  for (;;) {
    const rows = await env.db.sql<{ path: string; ended_at: Date | null }[]>`
      SELECT path, ended_at FROM recordings ORDER BY id DESC LIMIT 1`;
    if (rows[0]?.ended_at) return rows[0].path;
    if (Date.now() > until) throw new Error(`recording not closed: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
