import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeMeta, readRecording, RecordType } from "../../recorder/rdp_file.ts";
import { encodeFastPathInput, type InputEvent, parseFastPathInput } from "./pdu/mod.ts";
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
