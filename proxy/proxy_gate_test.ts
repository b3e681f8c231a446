// The listener step over real loopback sockets: a header split into single bytes, the client's bytes after
// it handed on intact, the socket's addresses replaced; refusals and a silent sender end in a result.
import assert from "node:assert/strict";
import net from "node:net";
import { GateSlots, passProxyGate } from "./proxy_gate.ts";
import { PROXY_V2_SIGNATURE, proxyProtocolSettings } from "./proxy_protocol.ts";

const header = Uint8Array.from([
  ...PROXY_V2_SIGNATURE,
  0x21,
  0x11,
  0,
  12,
  ...[192, 0, 2, 10],
  ...[198, 51, 100, 7],
  ...[0xc7, 0x38], // 51000
  ...[0, 22],
]);
const hello = new TextEncoder().encode("SSH-2.0-test\r\n");

interface Seen {
  result: Awaited<ReturnType<typeof passProxyGate>>;
  remote: string | undefined;
  local: string | undefined;
  localPort: number | undefined;
  after: string;
}

/** A listener on 127.0.0.1 that runs the gate, then reads what follows; `send` drives the client side. */
async function through(
  from: string[],
  send: (c: net.Socket) => Promise<void>,
  timeoutMs = 2000,
): Promise<Seen> {
  const settings = proxyProtocolSettings(from, "required");
  let resolveSeen: (s: Seen) => void;
  const seen = new Promise<Seen>((r) => (resolveSeen = r));
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    void passProxyGate(sock, settings, timeoutMs).then((result) => {
      const base = {
        result,
        remote: sock.remoteAddress,
        local: sock.localAddress,
        localPort: sock.localPort,
      };
      if (!result.ok) {
        sock.destroy();
        return resolveSeen({ ...base, after: "" });
      }
      let after = "";
      sock.on("data", (d: Uint8Array) => {
        after += new TextDecoder().decode(d);
        if (after.endsWith("\r\n")) {
          resolveSeen({ ...base, after });
          sock.end();
        }
      });
      sock.resume();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect({ host: "127.0.0.1", port });
  client.on("error", () => {});
  await new Promise<void>((r) => client.once("connect", () => r()));
  await send(client);
  const s = await seen;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return s;
}

const write = (c: net.Socket, b: Uint8Array) => new Promise<void>((r) => c.write(b, () => r()));

Deno.test("a header sent a byte at a time, then the client's bytes: both arrive where they belong", async () => {
  const s = await through(["127.0.0.1/32"], async (c) => {
    c.setNoDelay(true);
    for (const b of header) {
      await write(c, Uint8Array.of(b));
      await new Promise((r) => setTimeout(r, 1));
    }
    await write(c, hello);
  });
  assert.deepEqual(s.result, { ok: true, viaHeader: true });
  assert.deepEqual([s.remote, s.local, s.localPort], ["192.0.2.10", "198.51.100.7", 22]);
  assert.equal(s.after, "SSH-2.0-test\r\n");
});

Deno.test("a header and the client's bytes in one segment: the rest is handed on", async () => {
  const s = await through(["127.0.0.0/8"], (c) => write(c, new Uint8Array([...header, ...hello])));
  assert.equal(s.result.ok, true);
  assert.equal(s.remote, "192.0.2.10");
  assert.equal(s.after, "SSH-2.0-test\r\n");
});

Deno.test("refusals: a header from outside the list, none from the balancer, silence", async () => {
  const untrusted = await through(["10.0.0.0/8"], (c) => write(c, header));
  assert.deepEqual(untrusted.result, {
    ok: false,
    reason: "proxy_header_untrusted",
    detail: "PROXY header from a sender outside proxy_protocol_from",
    peer: "127.0.0.1",
  });
  // no header and not a balancer: the client's own bytes go on, the socket's addresses stay
  const direct = await through(["10.0.0.0/8"], (c) => write(c, hello));
  assert.deepEqual([direct.result.ok, direct.remote, direct.after], [true, "127.0.0.1", "SSH-2.0-test\r\n"]);
  const missing = await through(["127.0.0.1/32"], (c) => write(c, hello));
  assert.equal(!missing.result.ok && missing.result.reason, "proxy_header_missing");
  const silent = await through(["127.0.0.1/32"], () => Promise.resolve(), 200);
  assert.equal(!silent.result.ok && silent.result.reason, "proxy_header_timeout");
  const partial = await through(["127.0.0.1/32"], (c) => write(c, header.subarray(0, 20)), 200);
  assert.equal(!partial.result.ok && partial.result.reason, "proxy_header_timeout");
});

Deno.test("gate slots: a bound in all and per untrusted sender; a balancer has no per-sender bound", () => {
  const slots = new GateSlots({ total: 4, perUntrustedSource: 2 });
  const a1 = slots.take("192.0.2.1", false), a2 = slots.take("192.0.2.1", false);
  assert.ok(a1 && a2);
  assert.equal(slots.take("192.0.2.1", false), null, "third from one sender");
  const b = slots.take("10.0.0.5", true), c = slots.take("10.0.0.5", true);
  assert.ok(b && c);
  assert.equal(slots.take("10.0.0.5", true), null, "the total");
  assert.equal(slots.inGate, 4);
  a1();
  a1(); // twice is once
  assert.equal(slots.inGate, 3);
  const a3 = slots.take("192.0.2.1", false);
  assert.ok(a3);
  a2(), a3(), b(), c();
  assert.equal(slots.inGate, 0);
});

Deno.test("a full gate refuses at once, without reading", async () => {
  const slots = new GateSlots({ total: 0, perUntrustedSource: 0 });
  const settings = proxyProtocolSettings(["127.0.0.1/32"], "required");
  const server = net.createServer((sock) => {
    void passProxyGate(sock, settings, 1000, slots).then((r) => {
      sock.destroy();
      server.emit("result", r);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const result = new Promise((r) => server.once("result", r));
  const client = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port });
  client.on("error", () => {});
  client.write(header);
  assert.deepEqual(await result, {
    ok: false,
    reason: "proxy_gate_full",
    detail: "too many connections waiting for their first bytes",
    peer: "127.0.0.1",
  });
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});
