// e2e (OpenSSH -L → proxy → real sshd): port-forward auditing never stops, however many destinations a
// session opens (the metadata's list is bounded, the audit is not), and withdrawing the forwarding flag by a
// policy change closes the forwarded channels while the session itself goes on.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId } from "./helpers/ssh_clients.ts";
import { freePort, waitForPort } from "./helpers/sshd.ts";
import { revokePolicy } from "../db/policies.ts";

/** `ssh -N` with the given options, in the background until stopped. */
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
    async stop(): Promise<string> {
      try {
        child.kill("SIGTERM");
      } catch (_e) {
        // already gone
      }
      await child.status;
      return await stderr;
    },
  };
}

/** One HTTP/1.0 GET over a fresh TCP connection (one forwarded channel each); the response body. */
async function get(host: string, port: number, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: host, port });
  try {
    await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`));
    // read the head and Content-Length bytes of body (not up to EOF: the close takes a while to travel back)
    let text = "";
    const buf = new Uint8Array(4096);
    const dec = new TextDecoder();
    for (;;) {
      const head = text.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(text);
      if (head >= 0 && len && text.length >= head + 4 + Number(len[1])) return text.slice(head + 4);
      const n = await conn.read(buf);
      if (n === null) return text.slice(head + 4);
      text += dec.decode(buf.subarray(0, n));
    }
  } catch (e) {
    return `error: ${(e as Error).message}`;
  } finally {
    conn.close();
  }
}

async function until<T>(what: string, f: () => Promise<T | null>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("ssh forwarding: 510 distinct -L destinations are all audited; a withdrawn flag closes forwards", async (t) => {
  const env = await startSshEnv();
  const ac = new AbortController();
  const httpPort = freePort();
  // on every loopback address, so each 127.0.x.y is a distinct destination that answers
  const http = Deno.serve(
    { hostname: "0.0.0.0", port: httpPort, signal: ac.signal, onListen: () => {} },
    (req) => new Response(`behind ${new URL(req.url).pathname}`),
  );
  // a long-lived TCP peer next to the backend: it holds every connection open until the test ends
  const held: Deno.Conn[] = [];
  const tcpPort = freePort();
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: tcpPort });
  void (async () => {
    for await (const c of tcp) {
      held.push(c);
      void c.write(new TextEncoder().encode("hello\n")).catch(() => {});
    }
  })().catch(() => {});
  try {
    const U = env.sshd.user;
    const alice = await env.key("alice");
    await env.addServer("web1");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", U), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };

    await t.step("beyond the metadata's 500 destinations every forward is still audited", async () => {
      const policy = await env.grant("alice", "web1", { forwarding: true });
      const N = 510;
      const local = freePort();
      // each forward listens on its own local address (same port) and goes to its own destination
      const from = (i: number) => `127.0.${90 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      const to = (i: number) => `127.0.${40 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      const opts = Array.from({ length: N }, (_, i) => ["-L", `${from(i)}:${local}:${to(i)}:${httpPort}`])
        .flat();
      const f = await forwarder(me, env.port, `${U}@web1`, opts);
      try {
        await waitForPort(from(N - 1), local);
        for (let i = 0; i < N; i++) {
          assert.equal(await get(from(i), local, `/d${i}`), `behind /d${i}`);
        }
        // a repeat of a listed destination is counted, not audited again
        assert.equal(await get(from(0), local, "/again"), "behind /again");
        const opened = await until("510 ssh.forward_opened rows", async () => {
          const rows = await env.db.sql<{ host: string; unlisted: boolean | null }[]>`
            SELECT details->>'host' AS host, (details->>'unlisted')::boolean AS unlisted
            FROM audit_log WHERE action = 'ssh.forward_opened' ORDER BY id`;
          return rows.length >= N ? rows : null;
        });
        assert.equal(opened.length, N, "one row per destination, none for the repeat");
        assert.deepEqual(
          new Set(opened.map((r) => r.host)),
          new Set(Array.from({ length: N }, (_, i) => to(i))),
        );
        assert.equal(opened.filter((r) => r.unlisted).length, N - 500, "the ones beyond the list say so");
      } finally {
        await f.stop();
      }
      const [row] = await until("the session closed", async () => {
        const r = await env.db.sql<
          { metadata: { forwards: { host: string; count: number }[]; forwards_unlisted: number } }[]
        >`
          SELECT metadata FROM sessions WHERE NOT is_active ORDER BY id DESC LIMIT 1`;
        return r.length ? r : null;
      });
      assert.equal(row.metadata.forwards.length, 500);
      assert.equal(row.metadata.forwards_unlisted, N - 500);
      assert.equal(row.metadata.forwards.find((f) => f.host === to(0))?.count, 2, "the repeat is counted");
      await revokePolicy(env.db.sql, policy, "test", "next step");
      await env.proxy.reloadPolicy();
    });

    await t.step("revoking the forwarding policy closes open forwards; the session stays", async () => {
      const withFwd = await env.grant("alice", "web1", { forwarding: true });
      await env.grant("alice", "web1", { forwarding: false });
      const local = freePort();
      const f = await forwarder(me, env.port, `${U}@web1`, ["-L", `127.0.0.1:${local}:127.0.0.1:${tcpPort}`]);
      try {
        await waitForPort("127.0.0.1", local);
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: local });
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "hello\n");

        await revokePolicy(env.db.sql, withFwd, "test", "no more tunnels");
        // the proxy hears policy_changed by NOTIFY; the forwarded connection must end
        let timer: ReturnType<typeof setTimeout> | undefined;
        const ended = await Promise.race([
          conn.read(buf).then((r) => r === null ? "closed" : "data", () => "closed"),
          new Promise<string>((r) => timer = setTimeout(() => r("still open"), 10_000)),
        ]);
        clearTimeout(timer);
        conn.close();
        assert.equal(ended, "closed");
        const [w] = await until("ssh.forward_withdrawn", async () => {
          const r = await env.db.sql<
            { actor: string; details: { channels_closed: number; reason: string } }[]
          >`
            SELECT actor, details FROM audit_log WHERE action = 'ssh.forward_withdrawn'`;
          return r.length ? r : null;
        });
        assert.equal(w.actor, "alice");
        // ours, and the half-closed one waitForPort opened (the held peer never ends it)
        assert.ok(w.details.channels_closed >= 1, JSON.stringify(w.details));
        // a new connection through the same -L is refused, and audited as such
        const again = await Deno.connect({ hostname: "127.0.0.1", port: local });
        const r2 = await again.read(buf).catch(() => null);
        again.close();
        assert.equal(r2, null);
        await until("ssh.forward_denied", async () => {
          const r = await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'ssh.forward_denied'`;
          return r.length ? r : null;
        });
        // the session itself is still allowed (the other policy) and open
        const active = await env.db.sql`SELECT 1 FROM sessions WHERE is_active`;
        assert.equal(active.length, 1);
        assert.equal(
          await Promise.race([f.child.status.then(() => "exited"), Promise.resolve("running")]),
          "running",
        );
      } finally {
        await f.stop();
      }
    });
  } finally {
    ac.abort();
    await http.finished;
    tcp.close();
    for (const c of held) c.close();
    await env.close();
  }
});
