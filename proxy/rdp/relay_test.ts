import assert from "node:assert/strict";
import net from "node:net";
import { contiguousRuns, Relay } from "./relay.ts";
import { RdpParseError } from "./pdu/mod.ts";

/** Two connected socket pairs: [clientPeer, proxyClientSide] and [proxyServerSide, serverPeer]. */
async function pairs(): Promise<{ sockets: net.Socket[]; close(): Promise<void> }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => srv.listen({ host: "127.0.0.1", port: 0 }, r));
  const port = (srv.address() as net.AddressInfo).port;
  const dial = () =>
    new Promise<net.Socket>((r) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => r(s));
    });
  const clientPeer = await dial();
  const proxyServerSide = await dial();
  while (accepted.length < 2) await new Promise((r) => setTimeout(r, 5));
  const sockets = [clientPeer, accepted[0], proxyServerSide, accepted[1]];
  for (const s of sockets) s.on("error", () => {});
  return {
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** A fast-path frame of `size` bytes (header says so) with a sequence number in the body. */
function frame(size: number, seq: number): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = 0x04;
  b[1] = 0x80 | (size >> 8);
  b[2] = size & 0xff;
  new DataView(b.buffer).setUint32(3, seq);
  return b;
}

Deno.test("Relay pauses the sender while the receiver does not read, and loses nothing", async () => {
  const p = await pairs();
  const [clientPeer, clientSide, serverSide, serverPeer] = p.sockets;
  try {
    serverPeer.pause(); // the backend does not read
    const relay = new Relay(clientSide, serverSide, {
      clientFrame: (f) => f.bytes,
      serverFrame: (f) => f.bytes,
    });
    const total = 2000;
    const size = 16_000; // 32 MB in all
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        if (!clientPeer.write(frame(size, sent++))) return void clientPeer.once("drain", pump);
      }
    };
    pump();
    await new Promise((r) => setTimeout(r, 1000));
    const buffered = relay.bytes.fromClient;
    assert.ok(buffered < 16 * 1024 * 1024, `the relay read ${buffered} bytes while the backend read nothing`);
    assert.ok(sent < total, "the client was pushed back too");
    // the backend reads again: everything arrives, in order
    let got = 0;
    let seq = 0;
    let pending = new Uint8Array(0);
    const done = Promise.withResolvers<void>();
    serverPeer.on("data", (c: Uint8Array) => {
      const b = new Uint8Array(pending.length + c.length);
      b.set(pending);
      b.set(c, pending.length);
      let at = 0;
      for (; at + size <= b.length; at += size) {
        assert.equal(new DataView(b.buffer, b.byteOffset + at).getUint32(3), seq++);
        got++;
      }
      pending = b.slice(at);
      if (got === total) done.resolve();
    });
    serverPeer.resume();
    await done.promise;
    assert.equal(relay.bytes.fromClient, total * size);
    relay.disconnect([], []);
    await relay.closed;
  } finally {
    await p.close();
  }
});

Deno.test("Relay stops at a malformed frame without forwarding it", async () => {
  const p = await pairs();
  const [clientPeer, clientSide, serverSide, serverPeer] = p.sockets;
  try {
    const forwarded: number[] = [];
    serverPeer.on("data", (c: Uint8Array) => forwarded.push(c.length));
    const relay = new Relay(clientSide, serverSide, {
      clientFrame: (f) => {
        if (f.bytes[3] === 0xee) throw new RdpParseError("invalid", "bad frame");
        return f.bytes;
      },
      serverFrame: (f) => f.bytes,
    });
    const bad = frame(10, 0);
    bad[3] = 0xee;
    clientPeer.write(bad);
    const end = await relay.done;
    assert.equal(end.reason, "protocol_error");
    assert.equal(end.side, "client");
    assert.ok(end.error instanceof RdpParseError);
    await relay.closed;
    assert.deepEqual(forwarded, []);
  } finally {
    await p.close();
  }
});

for (const flooder of ["server", "client"] as const) {
  Deno.test(`Relay over TLS legs holds the ${flooder}'s TCP socket while the other side does not read`, async () => {
    const { loadOrCreateCertificate } = await import("./tls.ts");
    const { acceptTls, connectTls } = await import("./handshake.ts");
    const { HeldSocket } = await import("./held_socket.ts");
    const tls = await import("node:tls");
    const dir = await Deno.makeTempDir();
    const p = await pairs();
    const [clientPeer, clientSide, serverSide, serverPeer] = p.sockets;
    try {
      const m = await loadOrCreateCertificate({ dataDir: dir });
      // the peers hold their own sockets too, so a peer that "does not read" really leaves bytes in the kernel
      const clientHeld = new HeldSocket(clientPeer);
      const peerClient = tls.connect({
        socket: clientHeld as unknown as net.Socket,
        rejectUnauthorized: false,
      });
      const serverHeld = new HeldSocket(serverPeer);
      const peerServer = new tls.TLSSocket(serverHeld as unknown as net.Socket, { isServer: true, ...m });
      const [cl, sl] = await Promise.all([acceptTls(clientSide, m, 5000), connectTls(serverSide, 5000)]);
      for (const s of [peerClient, peerServer, cl.stream, sl.stream]) s.on("error", () => {});
      const leg = (l: typeof cl) => ({
        stream: l.stream,
        hold: () => l.held.hold(),
        release: () => l.held.release(),
      });
      const relay = new Relay(leg(cl), leg(sl), { clientFrame: (f) => f.bytes, serverFrame: (f) => f.bytes });
      const [sender, receiver, receiverHeld] = flooder === "server"
        ? [peerServer, peerClient, clientHeld]
        : [peerClient, peerServer, serverHeld];
      receiverHeld.hold();
      const total = 4000;
      const size = 16_000; // 64 MB offered
      let sent = 0;
      const pump = () => {
        while (sent < total) if (!sender.write(frame(size, sent++))) return void sender.once("drain", pump);
      };
      pump();
      await new Promise((r) => setTimeout(r, 1500));
      const rss0 = Deno.memoryUsage().rss;
      await new Promise((r) => setTimeout(r, 1000));
      const grew = Deno.memoryUsage().rss - rss0;
      assert.ok(sent < total / 2, `the ${flooder} was pushed back (sent ${sent} frames)`);
      assert.ok(grew < 8 * 1024 * 1024, `memory grew by ${grew} bytes while nothing moved`);
      let got = 0;
      const done = Promise.withResolvers<void>();
      receiver.on("data", (c: Uint8Array) => {
        got += c.length;
        if (got === total * size) done.resolve();
      });
      receiverHeld.release();
      await done.promise;
      relay.disconnect([], []);
      await relay.closed;
      peerClient.destroy();
      peerServer.destroy();
    } finally {
      await p.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("contiguousRuns() merges frames lying back to back in one buffer, without copying", () => {
  const chunk = new Uint8Array(100).map((_, i) => i);
  const copy = chunk.slice(40, 60);
  const runs = contiguousRuns([chunk.subarray(0, 10), chunk.subarray(10, 40), copy, chunk.subarray(60, 100)]);
  assert.equal(runs.length, 3);
  assert.deepEqual(runs.map((r) => [r.byteOffset, r.length]), [[0, 40], [0, 20], [60, 40]]);
  assert.equal(runs[0].buffer, chunk.buffer);
  assert.equal(runs[1], copy);
  assert.deepEqual(contiguousRuns([]), []);
  // a gap in the same buffer (a frame dropped or replaced) starts a new run
  assert.equal(contiguousRuns([chunk.subarray(0, 10), chunk.subarray(20, 30)]).length, 2);
});

Deno.test("Relay stops reading while the recording is behind and resumes when it caught up", async () => {
  const p = await pairs();
  const [clientPeer, clientSide, serverSide, serverPeer] = p.sockets;
  try {
    let pending = 0; // bytes "waiting for the disk"
    let wake: (() => void) | null = null;
    let waits = 0;
    const relay = new Relay(clientSide, serverSide, {
      clientFrame: (f) => {
        pending += f.bytes.length;
        return f.bytes;
      },
      serverFrame: (f) => f.bytes,
    }, {
      recording: {
        behind: () => pending > 100_000,
        caughtUp: () => {
          waits++;
          return new Promise<void>((r) => (wake = r));
        },
      },
    });
    let got = 0;
    serverPeer.on("data", (c: Uint8Array) => (got += c.length));
    const size = 10_000;
    for (let i = 0; i < 100; i++) clientPeer.write(frame(size, i)); // 1 MB
    await new Promise((r) => setTimeout(r, 300));
    // held: a little over the mark was read (what had arrived in the chunk that crossed it), no more
    assert.equal(waits, 1);
    const readWhileHeld = relay.bytes.fromClient;
    assert.ok(readWhileHeld > 100_000 && readWhileHeld < 400_000, `read ${readWhileHeld}`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(relay.bytes.fromClient, readWhileHeld, "nothing read while the recording is behind");
    // the recording catches up each time it is waited for: everything goes through
    const drain = setInterval(() => {
      pending = 0;
      wake?.();
      wake = null;
    }, 5);
    while (got < 100 * size) await new Promise((r) => setTimeout(r, 10));
    clearInterval(drain);
    assert.equal(relay.bytes.fromClient, 100 * size);
    assert.ok(waits >= 2);
    relay.disconnect([], []);
    await relay.closed;
  } finally {
    await p.close();
  }
});
