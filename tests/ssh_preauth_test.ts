// Pre-authentication exhaustion of the SSH listener (OpenSSH and npm:ssh2 clients → proxy → real sshd, real
// PostgreSQL): connections in setup are capped per source while another source still logs in, a client that
// stalls in the key exchange or the login is cut at its timeout, and denials of an unknown address are folded
// into a bounded number of audit rows that count them all.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";
import { type BackendClient, newBackendClient } from "../proxy/ssh/ssh2_types.ts";
import { releaseCrypto } from "../proxy/ssh/ssh2_internals.ts";
import type { SetupLimits } from "../proxy/ssh/setup_guard.ts";

/** An npm:ssh2 client that completes the key exchange and then never answers the login (it stalls). */
function stalledLogin(bind: string, port: number) {
  const client: BackendClient = newBackendClient();
  const sock = net.connect({ host: "127.0.0.1", port, localAddress: bind });
  sock.setNoDelay(true);
  sock.on("error", () => {});
  const handshake = Promise.withResolvers<boolean>();
  const closed = Promise.withResolvers<number>();
  (client as unknown as { on(ev: "handshake", f: () => void): void }).on(
    "handshake",
    () => handshake.resolve(true),
  );
  client.on("error", () => {});
  client.on("close", () => {
    handshake.resolve(false);
    closed.resolve(Date.now());
  });
  sock.on("close", () => {
    handshake.resolve(false);
    closed.resolve(Date.now());
  });
  sock.on("connect", () =>
    client.connect({
      sock,
      username: "flood",
      hostVerifier: () => true,
      readyTimeout: 120_000,
      // never calls back: the login stays pending until the proxy gives up
      authHandler: () => {},
    }));
  return {
    handshake: handshake.promise,
    closed: closed.promise,
    end() {
      client.end();
      sock.destroy();
      releaseCrypto(client);
    },
  };
}

/** A raw TCP client: connects, optionally sends bytes, then waits. Resolves `closed` when the proxy cuts it. */
async function raw(port: number, send: string | null) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (send !== null) await conn.write(new TextEncoder().encode(send));
  const closed = (async () => {
    const buf = new Uint8Array(4096);
    try {
      while ((await conn.read(buf)) !== null) { /* the proxy's identification line */ }
    } catch (_e) {
      // reset by the proxy
    }
    return Date.now();
  })();
  return { closed, close: () => conn.close() };
}

/** `raw` from a chosen source address, sending nothing. */
async function rawFrom(bind: string, port: number) {
  const sock = net.connect({ host: "127.0.0.1", port, localAddress: bind });
  sock.on("error", () => {});
  await new Promise<void>((r) => sock.once("connect", () => r()));
  const closed = new Promise<number>((r) => sock.once("close", () => r(Date.now())));
  return {
    closed,
    close: async () => {
      sock.destroy();
      await closed;
    },
  };
}

async function waitFor(f: () => boolean, what: string, ms = 5_000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function granted(setup: Partial<SetupLimits> = {}) {
  const env = await startSshEnv({
    setup: { perSource: 4, kexTimeoutMs: 1_500, loginGraceMs: 4_000, ...setup },
  });
  const alice = await env.key("alice");
  await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
  await env.addServer("web1");
  await env.grant("alice", "web1");
  const pub = await env.applianceKey("web1");
  await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
  const me: ClientId = { bind: "127.0.0.10", key: alice.path };
  return { env, me, target: `${env.sshd.user}@web1` };
}

Deno.test("ssh setup caps: a flood from one source is refused beyond the cap, another source logs in", async () => {
  const { env, me, target } = await granted();
  const flood: ReturnType<typeof stalledLogin>[] = [];
  try {
    // four ssh2 clients from 127.0.0.50 finish the key exchange and sit in the login: the source's cap
    for (let i = 0; i < 4; i++) flood.push(stalledLogin("127.0.0.50", env.port));
    assert.deepEqual(await Promise.all(flood.map((f) => f.handshake)), [true, true, true, true]);
    assert.equal(env.proxy.setupCount(), 4);
    // the fifth from the same source is cut before its key exchange
    const fifth = stalledLogin("127.0.0.50", env.port);
    flood.push(fifth);
    assert.equal(await fifth.handshake, false);
    // so is the real OpenSSH client from there
    const refused = await ssh(
      { bind: "127.0.0.50", opts: ["LogLevel=ERROR"] },
      env.port,
      "127.0.0.1",
      target,
      [
        "true",
      ],
    );
    assert.equal(refused.code, 255);
    // another source is not affected
    const r = await ssh(me, env.port, "127.0.0.1", target, ["echo in"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "in\n");
  } finally {
    for (const f of flood) f.end();
    await env.close();
  }
});

Deno.test("ssh setup reserve: a listener filled from unknown addresses still lets a user's source log in", async () => {
  const { env, me, target } = await granted({ perListener: 6, knownReserve: 2, kexTimeoutMs: 30_000 });
  const flood: Awaited<ReturnType<typeof raw>>[] = [];
  try {
    // six silent connections from three addresses in nobody's CIDR fill the listener
    for (const bind of ["127.0.0.60", "127.0.0.61", "127.0.0.62"]) {
      for (let i = 0; i < 2; i++) flood.push(await rawFrom(bind, env.port));
    }
    await waitFor(() => env.proxy.setupCount() === 6, "six connections in setup");
    const seventh = await rawFrom("127.0.0.63", env.port);
    flood.push(seventh);
    await seventh.closed; // cut at accept
    // alice's address is in her source CIDR: the reserve lets her in while the flood holds the listener
    const r = await ssh(me, env.port, "127.0.0.1", target, ["echo in"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "in\n");
    assert.equal(env.proxy.setupCount(), 6, "the flood is still there");
  } finally {
    for (const f of flood) await f.close();
    await env.close();
  }
});

Deno.test("ssh setup timeouts: stalled key exchange and stalled login are cut", async () => {
  const { env } = await granted();
  const stalled = stalledLogin("127.0.0.51", env.port);
  try {
    const t0 = Date.now();
    // sends nothing at all; sends its identification and stops; the login never answered
    const silent = await raw(env.port, null);
    const identOnly = await raw(env.port, "SSH-2.0-OpenSSH_9.2\r\n");
    assert.equal(await stalled.handshake, true);
    const [a, b, c] = await Promise.all([silent.closed, identOnly.closed, stalled.closed]);
    silent.close();
    identOnly.close();
    for (
      const [name, at, lo, hi] of [
        ["silent", a, 1_400, 3_500],
        ["identification only", b, 1_400, 3_500],
        ["stalled login", c, 3_900, 6_500],
      ] as const
    ) {
      assert.ok(at - t0 >= lo && at - t0 <= hi, `${name} cut after ${at - t0} ms (want ${lo}-${hi})`);
    }
    assert.equal(env.proxy.setupCount(), 0, "every slot is free again");
  } finally {
    stalled.end();
    await env.close();
  }
});

Deno.test("ssh denials of an unknown address are folded into summary rows with a count", async () => {
  const { env, target } = await granted();
  try {
    // four at a time: the source's setup cap in this environment
    const N = 28;
    for (let i = 0; i < N; i += 4) {
      const batch = await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            ssh({ bind: "127.0.0.66", opts: ["LogLevel=ERROR"] }, env.port, "127.0.0.1", target, ["true"]),
        ),
      );
      for (const r of batch) assert.equal(r.code, 255);
    }
    await env.proxy.auditsSettled();
    const rows = await env.db.sql<{ actor: string; details: Record<string, unknown> }[]>`
      SELECT actor, details FROM audit_log WHERE action = 'ssh.access_denied' ORDER BY id`;
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.equal(rows[0].details.reason, "unknown_source_ip");
    assert.equal(typeof rows[0].details.ref, "string", "a single denial is audited as before");
    assert.equal(rows[1].details.aggregated, true);
    assert.equal(rows[1].details.count, N - 1);
    assert.equal((rows[1].details.refs as string[]).length, 20, "sample references to match complaints");
    assert.ok(rows.every((r) => r.actor === "ip:127.0.0.66"));
  } finally {
    await env.close();
  }
});
