// Unit tests: PROXY protocol v2 headers as bytes, the verdict on them, and that no input makes the parser
// throw.
import assert from "node:assert/strict";
import { parseCidr } from "../policy/cidr.ts";
import {
  isTrustedSender,
  judgeProxyHeader,
  MAX_HEADER_BYTES,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
  type ProxyProtocolSettings,
} from "./proxy_protocol.ts";

function header(verCmd: number, famProto: number, body: number[]): Uint8Array {
  return Uint8Array.from([
    ...PROXY_V2_SIGNATURE,
    verCmd,
    famProto,
    body.length >> 8,
    body.length & 255,
    ...body,
  ]);
}
const port = (p: number) => [p >> 8, p & 255];
// 192.0.2.10:51000 → 198.51.100.7:22 (a captured HAProxy send-proxy-v2 header has this layout)
const inet = header(0x21, 0x11, [192, 0, 2, 10, 198, 51, 100, 7, ...port(51000), ...port(22)]);
const ssh = new TextEncoder().encode("SSH-2.0-OpenSSH_9.2\r\n");

Deno.test("an IPv4 PROXY header gives source and destination, and its length", () => {
  assert.deepEqual(parseProxyHeader(inet), {
    kind: "header",
    header: {
      command: "proxy",
      source: { ip: "192.0.2.10", port: 51000 },
      destination: { ip: "198.51.100.7", port: 22 },
    },
    length: 28,
  });
  // the client's bytes that follow are not part of it
  const both = new Uint8Array([...inet, ...ssh]);
  const r = parseProxyHeader(both);
  assert.equal(r.kind === "header" && r.length, 28);
});

Deno.test("an IPv6 header, TLVs skipped, and an IPv4-mapped source audited as IPv4", () => {
  const src = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1];
  const dst = [...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 9];
  // a PP2_TYPE_UNIQUE_ID TLV (0x05) and a NOOP (0x04) after the addresses
  const tlvs = [0x05, 0, 3, 0xaa, 0xbb, 0xcc, 0x04, 0, 0];
  const r = parseProxyHeader(header(0x21, 0x21, [...src, ...dst, ...port(40000), ...port(3389), ...tlvs]));
  assert.deepEqual(r, {
    kind: "header",
    header: {
      command: "proxy",
      source: { ip: "2001:db8::1", port: 40000 },
      destination: { ip: "127.0.0.9", port: 3389 },
    },
    length: 16 + 36 + tlvs.length,
  });
});

Deno.test("LOCAL, AF_UNSPEC and AF_UNIX headers mean: use the socket's addresses", () => {
  assert.deepEqual(parseProxyHeader(header(0x20, 0x00, [])), {
    kind: "header",
    header: { command: "local" },
    length: 16,
  });
  // LOCAL ignores whatever address block follows
  assert.deepEqual(parseProxyHeader(header(0x20, 0x11, [1, 2, 3])), {
    kind: "header",
    header: { command: "local" },
    length: 19,
  });
  assert.deepEqual(parseProxyHeader(header(0x21, 0x00, [])).kind, "header");
  const unix = parseProxyHeader(header(0x21, 0x31, Array(216).fill(0)));
  assert.equal(unix.kind === "header" && unix.header.command, "local");
});

Deno.test("no header: the client's protocol starts at once", () => {
  assert.deepEqual(parseProxyHeader(ssh), { kind: "none" });
  assert.deepEqual(parseProxyHeader(Uint8Array.from([3, 0, 0, 19])), { kind: "none" }); // an RDP TPKT
  assert.deepEqual(parseProxyHeader(Uint8Array.from([0x0d, 0x0a, 0x0d, 0x0b])), { kind: "none" });
});

Deno.test("every prefix of a header is incomplete, never wrong", () => {
  for (let n = 0; n < inet.length; n++) {
    assert.deepEqual(parseProxyHeader(inet.subarray(0, n)), { kind: "incomplete" }, `prefix ${n}`);
  }
  assert.deepEqual(parseProxyHeader(new TextEncoder().encode("PROX")), { kind: "incomplete" });
});

Deno.test("bad headers are typed errors", () => {
  const code = (b: Uint8Array) => {
    const r = parseProxyHeader(b);
    return r.kind === "error" ? r.error.code : r.kind;
  };
  assert.equal(code(new TextEncoder().encode("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n")), "v1_unsupported");
  assert.equal(code(header(0x11, 0x11, [])), "bad_version");
  assert.equal(code(header(0x22, 0x11, [])), "bad_command");
  assert.equal(code(header(0x21, 0x12, Array(12).fill(0))), "unsupported_transport"); // UDP
  assert.equal(code(header(0x21, 0x41, Array(12).fill(0))), "bad_family");
  assert.equal(code(header(0x21, 0x11, Array(11).fill(0))), "bad_length");
  assert.equal(code(header(0x21, 0x21, Array(35).fill(0))), "bad_length");
  const huge = Uint8Array.from([...PROXY_V2_SIGNATURE, 0x21, 0x11, 0x10, 0x00]);
  assert.equal(code(huge), "too_long"); // said before the bytes arrive: nothing is buffered for it
  assert.ok(MAX_HEADER_BYTES < 0x1010);
});

Deno.test("random bytes, and random damage to a header, never throw", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 20_000; i++) {
    const n = Math.floor(rand() * 80);
    const b = i % 2 === 0 ? Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)) : (() => {
      const h = new Uint8Array([...inet, ...ssh].slice(0, Math.max(n, 13)));
      h[12 + Math.floor(rand() * (h.length - 12))] = Math.floor(rand() * 256);
      return h;
    })();
    const r = parseProxyHeader(b);
    assert.ok(["none", "incomplete", "header", "error"].includes(r.kind));
    if (r.kind === "header") assert.ok(r.length <= b.length);
  }
});

Deno.test("the verdict: headers only from proxy_protocol_from, required from there when so set", () => {
  const required: ProxyProtocolSettings = { from: [parseCidr("127.0.0.0/30")], mode: "required" };
  const optional: ProxyProtocolSettings = { ...required, mode: "optional" };
  assert.equal(isTrustedSender(required, "127.0.0.2"), true);
  assert.equal(isTrustedSender(required, "127.0.0.9"), false);
  assert.equal(isTrustedSender(required, "::ffff:127.0.0.1"), true);
  assert.equal(isTrustedSender(required, ""), false);
  const none = { kind: "none" } as const;
  const parsed = parseProxyHeader(inet);
  if (parsed.kind === "incomplete") throw new Error("complete header expected");
  // trusted balancer with a header: the header's addresses
  assert.deepEqual(judgeProxyHeader(required, true, parsed), {
    accept: "header",
    source: { ip: "192.0.2.10", port: 51000 },
    destination: { ip: "198.51.100.7", port: 22 },
    skip: 28,
  });
  // anyone else's header is refused, whatever the mode
  assert.equal(judgeProxyHeader(optional, false, parsed).accept, false);
  assert.equal(
    (judgeProxyHeader(required, false, parsed) as { reason: string }).reason,
    "proxy_header_untrusted",
  );
  // a missing header from the balancer: refused when required, the socket's addresses when optional
  assert.equal((judgeProxyHeader(required, true, none) as { reason: string }).reason, "proxy_header_missing");
  assert.deepEqual(judgeProxyHeader(optional, true, none), { accept: "socket", skip: 0 });
  // direct clients (outside the list) without a header connect as before
  assert.deepEqual(judgeProxyHeader(required, false, none), { accept: "socket", skip: 0 });
  // a broken header from the balancer is refused; a LOCAL one keeps the socket's addresses
  const broken = parseProxyHeader(header(0x21, 0x11, []));
  if (broken.kind === "incomplete") throw new Error("complete header expected");
  assert.equal(
    (judgeProxyHeader(required, true, broken) as { reason: string }).reason,
    "proxy_header_invalid",
  );
  const local = parseProxyHeader(header(0x20, 0x00, []));
  if (local.kind === "incomplete") throw new Error("complete header expected");
  assert.deepEqual(judgeProxyHeader(required, true, local), { accept: "socket", skip: 16 });
});
