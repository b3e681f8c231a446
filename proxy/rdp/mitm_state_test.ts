import assert from "node:assert/strict";
import {
  CAPSETTYPE_BITMAP_CODECS,
  CAPSTYPE_ORDER,
  encodeSharePdu,
  type Frame,
  INFO_COMPRESSION,
  INFO_COMPRESSION_TYPE_MASK,
  parseClientInfo,
  parseConfirmActive,
  parseMcsConnectInitial,
  parseMcsConnectResponse,
  parseMcsFrame,
  parseShareControlPdus,
  parseShareDataHeader,
  PDUTYPE2_UPDATE,
  PDUTYPE_SERVER_REDIR_PKT,
  RdpParseError,
  RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL,
} from "./pdu/mod.ts";
import { sdin } from "./pdu/fixtures_built.ts";
import { type MitmEvent, MitmState } from "./mitm_state.ts";
import { loadCapture } from "./capture_fixtures.ts";

function replay(frames: (Frame & { side: string })[], requested = 0x3) {
  const events: MitmEvent[] = [];
  /** Index of the frame that produced each kind of event first. */
  const at = new Map<string, number>();
  let i = 0;
  const state = new MitmState(requested, (e) => {
    events.push(e);
    if (!at.has(e.kind)) at.set(e.kind, i);
  });
  const out: Uint8Array[] = [];
  for (; i < frames.length; i++) {
    const f = frames[i];
    out.push(f.side === "client" ? state.clientFrame(f) : state.serverFrame(f));
  }
  return { state, events, out, at };
}

const kinds = (events: MitmEvent[]) => new Set(events.map((e) => e.kind));

Deno.test("MitmState downgrades a captured xfreerdp→shadow connection", async () => {
  const frames = await loadCapture("shadow_session");
  const { events, out, at } = replay(frames, 0x3);
  // Connect Initial: no GFX, no multitransport, but the client asked for GFX
  const ci = parseMcsConnectInitial(out[0]);
  const original = parseMcsConnectInitial(frames[0].bytes);
  assert.ok((original.client.core!.earlyCapabilityFlags! & RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL) !== 0);
  assert.equal(ci.client.core!.earlyCapabilityFlags! & RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL, 0);
  assert.equal(ci.client.multitransport, null);
  // Connect Response: clientRequestedProtocols restored to what the client asked the proxy
  const crIndex = at.get("connect_response")!;
  assert.equal(parseMcsConnectResponse(out[crIndex]).server.core!.clientRequestedProtocols, 0x3);
  // Client Info: compression off, every other byte unchanged
  const info = events.find((e) => e.kind === "client_info");
  assert.ok(info && info.kind === "client_info");
  assert.equal(info.info.userName, "rdpuser");
  const infoIndex = at.get("client_info")!;
  const fwd = parseClientInfo(sendDataUserData(out[infoIndex]));
  assert.equal(fwd.flags & (INFO_COMPRESSION | INFO_COMPRESSION_TYPE_MASK), 0);
  assert.ok((info.info.flags & INFO_COMPRESSION) !== 0, "the capture asked for compression");
  // Confirm Active: no Bitmap Codecs, no orders
  const caIndex = at.get("confirm_active")!;
  const ca = parseConfirmActive(sendDataUserData(out[caIndex]));
  assert.ok(!ca.capabilities.some((c) => c.type === CAPSETTYPE_BITMAP_CODECS));
  const order = ca.capabilities.find((c) => c.type === CAPSTYPE_ORDER)!;
  assert.ok(order.data.subarray(32, 64).every((b) => b === 0));
  // what the recording gets
  const k = kinds(events);
  for (
    const want of [
      "connect_initial",
      "connect_response",
      "demand_active",
      "confirm_active",
      "server_fastpath",
    ]
  ) {
    assert.ok(k.has(want as MitmEvent["kind"]), `missing ${want}`);
  }
  assert.ok(!k.has("unrenderable_update"));
  const fp = events.filter((e) => e.kind === "server_fastpath");
  assert.ok(fp.every((e) => e.kind === "server_fastpath" && e.updateCodes.every((c) => c !== 0 && c !== 4)));
  assert.ok(events.some((e) => e.kind === "input" && e.format === "fastpath"));
});

Deno.test("MitmState passes xrdp licensing and records slow-path bitmap updates", async () => {
  const frames = await loadCapture("xrdp_session");
  const { events, state } = replay(frames);
  assert.ok(state.activated);
  const slow = events.filter((e) => e.kind === "server_slowpath");
  const bitmaps = slow.filter((e) => {
    if (e.kind !== "server_slowpath") return false;
    const sd = parseShareDataHeader(parseShareControlPdus(e.pdu)[0].body);
    return sd.pduType2 === PDUTYPE2_UPDATE && (sd.data[0] | (sd.data[1] << 8)) === 1; // UPDATETYPE_BITMAP
  });
  assert.ok(bitmaps.length >= 2, `only ${bitmaps.length} slow-path bitmap updates`);
  const demand = events.find((e) => e.kind === "demand_active");
  assert.ok(demand?.kind === "demand_active" && demand.summary.desktopWidth === 1024);
  assert.ok(!kinds(events).has("unrenderable_update"));
  const channels = events.find((e) => e.kind === "connect_response");
  assert.ok(channels?.kind === "connect_response" && channels.channels.some((c) => c.name === "drdynvc"));
});

Deno.test("MitmState refuses server redirection and the GFX channel", async () => {
  const frames = await loadCapture("shadow_session");
  // replay up to activation, then inject hostile server PDUs
  const activation = frames.findIndex((f) => f.side === "server" && f.kind === "fastpath");
  const prefix = frames.slice(0, activation);
  const { state } = replay(prefix);
  assert.ok(state.activated);
  const redirect = sdin(
    encodeSharePdu({ pduType: PDUTYPE_SERVER_REDIR_PKT, pduSource: 1002, data: new Uint8Array(8) }),
  );
  assert.throws(
    () => state.serverFrame({ kind: "tpkt", bytes: redirect }),
    (e) => e instanceof RdpParseError,
  );
  const events: MitmEvent[] = [];
  const s2 = new MitmState(0x3, (e) => events.push(e));
  for (const f of prefix) f.side === "client" ? s2.clientFrame(f) : s2.serverFrame(f);
  const cr = events.find((e) => e.kind === "connect_response");
  assert.ok(cr?.kind === "connect_response");
  const drdynvc = cr.channels.find((c) => c.name === "drdynvc");
  assert.ok(drdynvc, "the capture has a drdynvc channel");
  const name = new TextEncoder().encode("Microsoft::Windows::RDS::Graphics\0");
  const msg = new Uint8Array(2 + name.length);
  msg.set([0x10, 0x05]); // DYNVC_CREATE_REQ, 1-byte channel id 5
  msg.set(name, 2);
  const chunk = new Uint8Array(8 + msg.length);
  new DataView(chunk.buffer).setUint32(0, msg.length, true);
  new DataView(chunk.buffer).setUint32(4, 0x3, true); // FIRST|LAST
  chunk.set(msg, 8);
  assert.throws(
    () => s2.serverFrame({ kind: "tpkt", bytes: sdin(chunk, drdynvc.id) }),
    (e) => e instanceof RdpParseError && /GFX/.test(e.message),
  );
});

/** A small deterministic PRNG (mulberry32) so fuzz failures can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(b: Uint8Array, r: () => number): Uint8Array {
  const out = b.slice();
  switch (Math.floor(r() * 4)) {
    case 0: // flip a few bits
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
        out[Math.floor(r() * out.length)] ^= 1 << Math.floor(r() * 8);
      }
      return out;
    case 1: // truncate
      return out.subarray(0, Math.floor(r() * out.length));
    case 2: // random bytes in the headers, where lengths live
      for (let i = 0, n = Math.min(out.length, 40); i < 3; i++) {
        out[Math.floor(r() * n)] = Math.floor(r() * 256);
      }
      return out;
    default: { // append garbage
      const extra = new Uint8Array(1 + Math.floor(r() * 16)).map(() => Math.floor(r() * 256));
      const joined = new Uint8Array(out.length + extra.length);
      joined.set(out);
      joined.set(extra, out.length);
      return joined;
    }
  }
}

Deno.test("MitmState throws only RdpParseError on mutated captured frames (fuzz)", async () => {
  for (const name of ["shadow_session", "xrdp_session"] as const) {
    const frames = await loadCapture(name);
    const r = rng(name.length * 7919);
    let rejected = 0;
    for (let iter = 0; iter < 1500; iter++) {
      const target = Math.floor(r() * frames.length);
      const state = new MitmState(0x3, () => {});
      const feed = (f: Frame & { side: string }) =>
        f.side === "client" ? state.clientFrame(f) : state.serverFrame(f);
      for (let i = 0; i < target; i++) feed(frames[i]);
      const f = frames[target];
      try {
        feed({ ...f, bytes: mutate(f.bytes, r) });
      } catch (e) {
        if (!(e instanceof RdpParseError)) {
          throw new Error(`${name} frame ${target} iteration ${iter}: ${(e as Error).stack}`);
        }
        rejected++;
      }
    }
    assert.ok(rejected > 300, `${name}: only ${rejected} mutations were rejected`);
  }
});

Deno.test("MitmState throws only RdpParseError on random frames in every phase (fuzz)", async () => {
  const frames = await loadCapture("shadow_session");
  const r = rng(4242);
  for (let iter = 0; iter < 1500; iter++) {
    const target = Math.floor(r() * frames.length);
    const state = new MitmState(0x3, () => {});
    for (let i = 0; i < target; i++) {
      const f = frames[i];
      f.side === "client" ? state.clientFrame(f) : state.serverFrame(f);
    }
    const len = 4 + Math.floor(r() * 300);
    const bytes = new Uint8Array(len).map(() => Math.floor(r() * 256));
    if (r() < 0.5) bytes.set([3, 0, len >> 8, len & 0xff]); // a plausible TPKT header
    try {
      (r() < 0.5 ? state.clientFrame : state.serverFrame).call(state, {
        kind: bytes[0] === 3 ? "tpkt" : "fastpath",
        bytes,
      });
    } catch (e) {
      if (!(e instanceof RdpParseError)) throw new Error(`iteration ${iter}: ${(e as Error).stack}`);
    }
  }
});

function sendDataUserData(frame: Uint8Array): Uint8Array {
  const pdu = parseMcsFrame(frame);
  assert.ok(pdu.type === "sendDataRequest" || pdu.type === "sendDataIndication");
  return pdu.userData;
}
