import assert from "node:assert/strict";
import { chunkChannelMessage, RdpParseError } from "./pdu/mod.ts";
import { ChannelAudit } from "./channel_audit.ts";

Deno.test("ChannelAudit reassembles chunks per side and channel", () => {
  const a = new ChannelAudit();
  const msg = new Uint8Array(4000).map((_, i) => i & 0xff);
  const chunks = chunkChannelMessage(msg, 1600);
  const other = chunkChannelMessage(Uint8Array.of(1, 2, 3));
  assert.equal(a.push("client", 1004, chunks[0]), null);
  // the other side of the same channel interleaves its own message
  assert.deepEqual(a.push("server", 1004, other[0]), { kind: "message", message: Uint8Array.of(1, 2, 3) });
  assert.equal(a.push("client", 1004, chunks[1]), null);
  const r = a.push("client", 1004, chunks[2]);
  assert.ok(r?.kind === "message");
  assert.deepEqual(r.message, msg);
});

Deno.test("ChannelAudit skips a message too large to audit and reports its size", () => {
  const a = new ChannelAudit(1000);
  const chunks = chunkChannelMessage(new Uint8Array(3000), 1600);
  assert.equal(a.push("client", 1005, chunks[0]), null);
  assert.deepEqual(a.push("client", 1005, chunks[1]), { kind: "skipped", length: 3000 });
  // and the channel works again afterwards
  assert.equal(a.push("client", 1005, chunkChannelMessage(Uint8Array.of(9))[0])?.kind, "message");
});

Deno.test("ChannelAudit rejects chunks that contradict the declared length", () => {
  const a = new ChannelAudit();
  const [first] = chunkChannelMessage(new Uint8Array(10), 4);
  assert.equal(a.push("client", 1006, first), null);
  const liar = chunkChannelMessage(new Uint8Array(20), 20)[0];
  assert.throws(() => a.push("client", 1006, liar), RdpParseError); // FIRST while one is open
  const b = new ChannelAudit();
  const [, middle] = chunkChannelMessage(new Uint8Array(10), 4);
  assert.throws(() => b.push("client", 1006, middle), RdpParseError); // no FIRST
});
