// e2e: -L, -D (curl through SOCKS) and -R through the proxy, and refusals when the policy does not allow
// port forwarding. The "remote network" is loopback: the backend sshd connects to a local HTTP server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId, runCmd } from "./helpers/ssh_clients.ts";
import { freePort, waitForPort } from "./helpers/sshd.ts";

/** Runs `ssh -N` with forwarding options in the background until stopped. */
async function forwarder(id: ClientId, port: number, user: string, opts: string[]) {
  const c = await clientArgs(id);
  const child = new Deno.Command("ssh", {
    args: [
      ...c.args,
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      ...opts,
      "-p",
      String(port),
      `${user}@127.0.0.1`,
    ],
    env: c.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    /** waits for ssh to exit by itself (killed after `ms` if it does not) */
    async wait(ms: number): Promise<{ code: number; stderr: string }> {
      const guard = setTimeout(() => child.kill("SIGTERM"), ms);
      try {
        const s = await child.status;
        return { code: s.code, stderr: await stderr };
      } finally {
        clearTimeout(guard);
      }
    },
    async stop(): Promise<{ code: number; stderr: string }> {
      try {
        child.kill("SIGTERM");
      } catch (_e) {
        // already gone
      }
      const s = await child.status;
      return { code: s.code, stderr: await stderr };
    },
  };
}

Deno.test("ssh forwarding: -L, -D and -R relayed through the backend, refused without the policy flag", async (t) => {
  const env = await startSshEnv();
  const ac = new AbortController();
  const httpPort = freePort();
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: httpPort, signal: ac.signal, onListen: () => {} },
    (req) => new Response(`hello from behind ${new URL(req.url).pathname}`),
  );
  try {
    const U = env.sshd.user;
    const alice = await env.key("alice");
    await env.addServer("web1");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addUser("bob", "127.0.0.11", { keys: [alice.pub] });
    await env.grant("alice", "web1", { forwarding: true });
    await env.grant("bob", "web1", { forwarding: false });
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
    const alic: ClientId = { bind: "127.0.0.10", key: alice.path };
    const bob: ClientId = { bind: "127.0.0.11", key: alice.path };
    const curl = (args: string[]) => runCmd("curl", ["-sS", "--max-time", "10", ...args]);

    await t.step("-L reaches a service next to the backend", async () => {
      const local = freePort();
      const f = await forwarder(alic, env.port, `${U}@web1`, [
        "-L",
        `127.0.0.1:${local}:127.0.0.1:${httpPort}`,
      ]);
      try {
        await waitForPort("127.0.0.1", local);
        const r = await curl([`http://127.0.0.1:${local}/via-L`]);
        assert.equal(r.stdout, "hello from behind /via-L", r.stderr);
      } finally {
        await f.stop();
      }
    });

    await t.step("-D works as a SOCKS proxy for curl --socks5-hostname", async () => {
      const local = freePort();
      const f = await forwarder(alic, env.port, `${U}@web1`, ["-D", `127.0.0.1:${local}`]);
      try {
        await waitForPort("127.0.0.1", local);
        const r = await curl([
          "--socks5-hostname",
          `127.0.0.1:${local}`,
          `http://localhost:${httpPort}/via-D`,
        ]);
        assert.equal(r.stdout, "hello from behind /via-D", r.stderr);
      } finally {
        await f.stop();
      }
    });

    await t.step(
      "-R makes the backend listen and relays its connections back to the client side",
      async () => {
        const remote = freePort();
        const f = await forwarder(alic, env.port, `${U}@web1`, [
          "-R",
          `127.0.0.1:${remote}:127.0.0.1:${httpPort}`,
        ]);
        try {
          // the port is opened by the backend sshd (it is on this machine, so we can connect to it)
          await waitForPort("127.0.0.1", remote);
          const r = await curl([`http://127.0.0.1:${remote}/via-R`]);
          assert.equal(r.stdout, "hello from behind /via-R", r.stderr);
        } finally {
          await f.stop();
        }
      },
    );

    await t.step("forwarded destinations are in the metadata and audited once each", async () => {
      for (let i = 0; i < 50; i++) {
        const n = Number((await env.db.sql`SELECT count(*) AS n FROM sessions WHERE is_active`)[0].n);
        if (n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const rows = await env.db.sql<
        { metadata: { forwards: { kind: string; host: string; port: number }[] } }[]
      >`
        SELECT metadata FROM sessions ORDER BY id`;
      const fw = rows.flatMap((r) => r.metadata.forwards.map((f) => `${f.kind} ${f.host}:${f.port}`));
      assert.ok(fw.includes(`direct 127.0.0.1:${httpPort}`), fw.join());
      assert.ok(fw.includes(`direct localhost:${httpPort}`), fw.join());
      assert.ok(fw.some((x) => x.startsWith("remote 127.0.0.1:")), fw.join());
      const opened = await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'ssh.forward_opened'`;
      assert.equal(opened.length, 3);
    });

    await t.step("-L without the policy flag fails the channel and is audited", async () => {
      const local = freePort();
      const f = await forwarder(bob, env.port, `${U}@web1`, [
        "-L",
        `127.0.0.1:${local}:127.0.0.1:${httpPort}`,
      ]);
      try {
        await waitForPort("127.0.0.1", local);
        const r = await curl([`http://127.0.0.1:${local}/nope`]);
        assert.notEqual(r.code, 0);
      } finally {
        const out = await f.stop();
        assert.match(out.stderr, /open failed/);
      }
      const [a] = await env.db.sql<{ actor: string; details: { kind: string; reason: string } }[]>`
        SELECT actor, details FROM audit_log WHERE action = 'ssh.forward_denied' ORDER BY id DESC LIMIT 1`;
      assert.equal(a.actor, "bob");
      assert.equal(a.details.kind, "direct");
      assert.match(a.details.reason, /not allowed/);
    });

    await t.step("-R without the policy flag is refused as OpenSSH shows it", async () => {
      const f = await forwarder(bob, env.port, `${U}@web1`, [
        "-R",
        `127.0.0.1:${freePort()}:127.0.0.1:${httpPort}`,
      ]);
      // ExitOnForwardFailure makes ssh give up by itself
      const out = await f.wait(10_000);
      assert.equal(out.code, 255);
      assert.match(out.stderr, /remote port forwarding failed/);
      // the audit row is written while ssh is already exiting
      let denied = 0;
      for (let i = 0; i < 40 && denied === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        denied = (await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'ssh.forward_denied'
          AND details->>'kind' = 'remote'`).length;
      }
      assert.equal(denied, 1);
    });
  } finally {
    ac.abort();
    await http.finished;
    await env.close();
  }
});
