import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeMeta, decodeScreenResize, readRecording, RecordType } from "../../recorder/rdp_file.ts";
import { createRenderer } from "../../recorder/rdp_render/mod.ts";
import { applyRecord } from "../../recorder/rdp_replay/apply.ts";
import {
  CAPSETTYPE_BITMAP_CODECS,
  encodeFastPathInput,
  hex,
  type InputEvent,
  parseConfirmActive,
  parseFastPathInput,
  parseMcsFrame,
  replaceSendDataUserData,
} from "./pdu/mod.ts";
import { loadCapture } from "./capture_fixtures.ts";
import { MitmState } from "./mitm_state.ts";
import { ConnectionTap } from "./connection_tap.ts";
import { RecordingTap } from "./recording_tap.ts";
import type { MetaEvent } from "./meta_events.ts";

const key = (keyCode: number, release = false): InputEvent => ({
  type: "scancode",
  keyCode,
  release,
  extended: false,
  extended1: false,
});
const mouse: InputEvent = { type: "mouse", pointerFlags: 0x0800, x: 10, y: 20 };

Deno.test("ConnectionTap keeps pre-logon keystrokes out of the recording but records the pointer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "r.rdprec");
    const errors: string[] = [];
    const recording = new RecordingTap(path, (m) => errors.push(m));
    const meta: MetaEvent[] = [];
    const tap = new ConnectionTap(
      {
        sessionId: "s1",
        connection: 1,
        source: { address: "127.0.0.1", port: 1 },
        target: { host: "h", port: 3389 },
        extra: {},
      },
      recording,
      (e) => meta.push(e),
      () => {},
    );
    // a real handshake up to activation (the capture's client logged on with a password, so clear autologon)
    const frames = await loadCapture("shadow_session");
    const state = new MitmState(0x3, (e) => {
      if (e.kind === "client_info") e.info.flags &= ~0x8; // not INFO_AUTOLOGON: a logon screen follows
      if (e.kind !== "input" && e.kind !== "server_fastpath") tap.handle(e);
    });
    for (const f of frames.slice(0, frames.findIndex((f) => f.kind === "fastpath"))) {
      f.side === "client" ? state.clientFrame(f) : state.serverFrame(f);
    }
    assert.ok(recording.started);
    const typed = encodeFastPathInput([key(0x1f), key(0x1f, true), mouse]); // "s" and a pointer move
    tap.handle({ kind: "input", format: "fastpath", bytes: typed, events: parseFastPathInput(typed).events });
    tap.handle({ kind: "logon", infoType: 0 });
    tap.handle({ kind: "input", format: "fastpath", bytes: typed, events: parseFastPathInput(typed).events });
    tap.keys.flush();
    const stats = await recording.close();
    assert.ok(stats && stats.bytesWritten > 0);
    assert.deepEqual(errors, []);

    const inputs: InputEvent[][] = [];
    const metas: Record<string, unknown>[] = [];
    for await (const r of readRecording(path)) {
      if (r.type === RecordType.CLIENT_FASTPATH_INPUT) inputs.push(parseFastPathInput(r.payload).events);
      if (r.type === RecordType.META) metas.push(decodeMeta(r.payload));
    }
    assert.deepEqual(inputs, [[mouse], [key(0x1f), key(0x1f, true), mouse]]);
    assert.deepEqual(metas.map((m) => m.type), ["keys_redacted", "logon", "keys"]);
    assert.equal(metas[2].text, "s");
    assert.deepEqual(meta.map((m) => m.type), ["keys_redacted", "logon", "keys"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ConnectionTap: a client's INFO_AUTOLOGON with a password does not make activation a logon", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recording = new RecordingTap(join(dir, "r.rdprec"), () => {});
    const meta: MetaEvent[] = [];
    const tap = new ConnectionTap(
      {
        sessionId: "s1",
        connection: 1,
        source: { address: "127.0.0.1", port: 1 },
        target: { host: "h", port: 3389 },
        extra: {},
      },
      recording,
      (e) => meta.push(e),
      () => {},
    );
    // the capture's client logs on automatically with a password (INFO_AUTOLOGON, cbPassword > 0)
    const frames = await loadCapture("shadow_session");
    let autologon = false;
    const state = new MitmState(0x3, (e) => {
      if (e.kind === "client_info") autologon = (e.info.flags & 0x8) !== 0 && e.info.passwordPresent;
      if (e.kind !== "input" && e.kind !== "server_fastpath") tap.handle(e);
    });
    for (const f of frames.slice(0, frames.findIndex((f) => f.kind === "fastpath"))) {
      f.side === "client" ? state.clientFrame(f) : state.serverFrame(f);
    }
    assert.ok(autologon && state.activated, "the capture is an autologon client, activated");
    // Windows shows its logon screen anyway and the user types a password there
    const typed = encodeFastPathInput([key(0x1f), key(0x1f, true)]);
    tap.handle({ kind: "input", format: "fastpath", bytes: typed, events: parseFastPathInput(typed).events });
    tap.keys.flush();
    await recording.close();
    assert.ok(!tap.keys.loggedOn);
    assert.deepEqual(meta.map((m) => m.type), ["keys_redacted"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server re-activation with a new desktop size (captured from freerdp-shadow) is relayed and recorded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "r.rdprec");
    const errors: string[] = [];
    const recording = new RecordingTap(path, (m) => errors.push(m));
    const tap = new ConnectionTap(
      {
        sessionId: "s1",
        connection: 1,
        source: { address: "127.0.0.1", port: 1 },
        target: { host: "h", port: 3389 },
        extra: {},
      },
      recording,
      () => {},
      () => {},
    );
    const kinds: string[] = [];
    let produced = "";
    const state = new MitmState(0x3, (e) => {
      kinds.push(e.kind);
      produced = e.kind;
      if (e.kind !== "input") tap.handle(e);
    });
    // the captured handshake up to activation; remember the frames of its Demand Active and Confirm Active
    const frames = await loadCapture("shadow_session");
    let demandFrame: Uint8Array | null = null, confirmFrame: Uint8Array | null = null;
    for (const f of frames.slice(0, frames.findIndex((f) => f.kind === "fastpath"))) {
      produced = "";
      f.side === "client" ? state.clientFrame(f) : state.serverFrame(f);
      if (produced === "demand_active") demandFrame = f.bytes;
      if (produced === "confirm_active") confirmFrame = f.bytes;
    }
    assert.ok(state.activated && demandFrame && confirmFrame);

    // the resize, as freerdp-shadow sent it after xrandr grew its display (tests/fixtures/rdp/shadow_resize.json)
    const c = JSON.parse(
      await Deno.readTextFile(new URL("../../tests/fixtures/rdp/shadow_resize.json", import.meta.url)),
    );
    const [deactivate, demand] = [hex(c.deactivateAll), hex(c.demandActive)];
    kinds.length = 0;
    for (const userData of [deactivate, demand]) {
      const frame = replaceSendDataUserData(demandFrame, userData);
      assert.deepEqual(state.serverFrame({ kind: "tpkt", bytes: frame }), frame, "relayed unchanged");
    }
    // the client confirms again: the proxy's downgrade holds for the new activation too (no bitmap codecs)
    const out = state.clientFrame({ kind: "tpkt", bytes: confirmFrame });
    const fwd = parseMcsFrame(out);
    assert.ok(fwd.type === "sendDataRequest");
    assert.ok(
      !parseConfirmActive(fwd.userData).capabilities.some((x) => x.type === CAPSETTYPE_BITMAP_CODECS),
    );
    assert.deepEqual(kinds, ["deactivate_all", "demand_active", "confirm_active"]);
    assert.deepEqual(tap.stats.screen, { ...c.to, bpp: 32 });
    await recording.close();
    assert.deepEqual(errors, []);

    // the recording: both sizes, the server's PDUs byte for byte, and a renderer ends at the new size
    const sizes: string[] = [];
    const slow: string[] = [];
    const r = createRenderer(c.from);
    for await (const rec of readRecording(path)) {
      if (rec.type === RecordType.SCREEN_RESIZE) {
        const z = decodeScreenResize(rec.payload);
        sizes.push(`${z.width}x${z.height}`);
      }
      if (rec.type === RecordType.SERVER_SLOWPATH) slow.push([...rec.payload].join(","));
      applyRecord(r, rec.type, rec.payload);
    }
    assert.deepEqual(sizes, [`${c.from.width}x${c.from.height}`, `${c.to.width}x${c.to.height}`]);
    assert.deepEqual(slow.slice(-2), [[...deactivate].join(","), [...demand].join(",")]);
    assert.deepEqual([r.width, r.height], [c.to.width, c.to.height]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
