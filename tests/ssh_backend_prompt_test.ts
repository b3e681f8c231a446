// The backend leg answers keyboard-interactive only where a password is asked. The backend here is an SSH
// server (npm:ssh2's, on a real socket) that offers only keyboard-interactive and records every answer:
// a "Verification code:" prompt must never receive the jump password (the method fails instead), a
// "Password:" prompt gets it. (A real sshd cannot be made to ask "Verification code:" without changing the
// machine's /etc/pam.d/sshd, which other tests use.)
import assert from "node:assert/strict";
import net from "node:net";
import { connectBackend } from "../proxy/ssh/upstream.ts";
import { BackendError } from "../proxy/ssh/upstream.ts";
import { releaseCrypto } from "../proxy/ssh/ssh2_internals.ts";
import {
  type AuthContext,
  createServer,
  generateKeyPairSync,
  type KeyboardAuth,
} from "../proxy/ssh/ssh2_types.ts";

async function kbdBackend(prompt: string, accept: string) {
  const answers: string[][] = [];
  const ssh = createServer([generateKeyPairSync("ed25519").private], {});
  ssh.on("connection", (conn) => {
    conn.on("error", () => {});
    conn.on("close", () => releaseCrypto(conn));
    conn.on("authentication", (ctx: AuthContext) => {
      if (ctx.method !== "keyboard-interactive") return ctx.reject(["keyboard-interactive"]);
      (ctx as KeyboardAuth).prompt([{ prompt, echo: false }], "", "", (a) => {
        answers.push(a);
        if (a.length === 1 && a[0] === accept) ctx.accept();
        else ctx.reject(["keyboard-interactive"]);
      });
    });
    conn.on("ready", () => conn.end());
  });
  const sockets = new Set<net.Socket>();
  const l = net.createServer((sock) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    ssh.injectSocket(sock);
  });
  await new Promise<void>((r) => l.listen({ host: "127.0.0.1", port: 0 }, () => r()));
  return {
    port: (l.address() as net.AddressInfo).port,
    answers,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => l.close(() => r()));
    },
  };
}

const pin = { pinned: null, pin: (k: string) => Promise.resolve(k) };
const opts = { timeoutMs: 5000, keepaliveMs: 30_000 };

Deno.test("backend leg: the jump password never answers a 'Verification code:' prompt", async () => {
  const b = await kbdBackend("Verification code: ", "123456");
  try {
    await assert.rejects(
      connectBackend(
        { host: "127.0.0.1", port: b.port, login: "alice" },
        {
          applianceKey: null,
          agent: null,
          password: "jump-secret-pw",
        },
        pin,
        opts,
      ),
      (e) => e instanceof BackendError && e.code === "auth_failed",
    );
    assert.ok(b.answers.every((a) => !a.includes("jump-secret-pw")), JSON.stringify(b.answers));
  } finally {
    await b.close();
  }
});

Deno.test("backend leg: a 'Password:' prompt gets the jump password", async () => {
  const b = await kbdBackend("Password: ", "jump-secret-pw");
  try {
    const be = await connectBackend(
      { host: "127.0.0.1", port: b.port, login: "alice" },
      {
        applianceKey: null,
        agent: null,
        password: "jump-secret-pw",
      },
      pin,
      opts,
    );
    assert.equal(be.authMethod, "keyboard-interactive");
    assert.deepEqual(b.answers, [["jump-secret-pw"]]);
    be.client.end();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    await b.close();
  }
});
