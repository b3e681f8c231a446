import assert from "node:assert/strict";
import {
  ByteWriter,
  CB_CLIP_CAPS,
  CB_FORMAT_DATA_REQUEST,
  CB_FORMAT_DATA_RESPONSE,
  CB_FORMAT_LIST,
  CB_RESPONSE_OK,
  CB_USE_LONG_FORMAT_NAMES,
  CF_UNICODETEXT,
} from "./pdu/mod.ts";
import { encodeUtf16 } from "./pdu/reader.ts";
import { ClipboardAudit } from "./clipboard_audit.ts";
import type { MetaEvent } from "./meta_events.ts";

const now = () => new Date("2025-06-01T12:00:00Z");
const msg = (type: number, flags: number, data: Uint8Array) =>
  new ByteWriter().u16le(type).u16le(flags).u32le(data.length).bytes(data).finish();
const caps = () =>
  msg(
    CB_CLIP_CAPS,
    0,
    new ByteWriter().u16le(1).u16le(0).u16le(1).u16le(12).u32le(2).u32le(CB_USE_LONG_FORMAT_NAMES).finish(),
  );
const u32 = (v: number) => new ByteWriter().u32le(v).finish();
const FILES_ID = 0xc0a1;

function formatList(formats: [number, string][]): Uint8Array {
  const w = new ByteWriter();
  for (const [id, name] of formats) w.u32le(id).bytes(encodeUtf16(name + "\0"));
  return msg(CB_FORMAT_LIST, 0, w.finish());
}

function fileDescriptors(files: [string, number][]): Uint8Array {
  const w = new ByteWriter().u32le(files.length);
  for (const [name, size] of files) {
    const fname = new Uint8Array(520);
    fname.set(encodeUtf16(name));
    w.u32le(0x40).zeros(32).u32le(0x20).zeros(16 + 8).u32le(0).u32le(size).bytes(fname);
  }
  return w.finish();
}

function setup() {
  const events: MetaEvent[] = [];
  const a = new ClipboardAudit((e) => events.push(e), now);
  a.message("server", caps());
  a.message("client", caps());
  return { a, events };
}

Deno.test("ClipboardAudit records text the server pastes from the client's clipboard", () => {
  const { a, events } = setup();
  a.message("client", formatList([[CF_UNICODETEXT, ""]]));
  a.message("server", msg(CB_FORMAT_DATA_REQUEST, 0, u32(CF_UNICODETEXT)));
  a.message("client", msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_OK, encodeUtf16("rm -rf /tmp/x\0")));
  assert.deepEqual(events, [{
    type: "clipboard_text",
    at: now().toISOString(),
    from: "client",
    text: "rm -rf /tmp/x",
    length: 13,
    truncated: false,
  }]);
});

Deno.test("ClipboardAudit records file names offered by the server and caps long text", () => {
  const { a, events } = setup();
  a.message("server", formatList([[FILES_ID, "FileGroupDescriptorW"], [CF_UNICODETEXT, ""]]));
  a.message("client", msg(CB_FORMAT_DATA_REQUEST, 0, u32(FILES_ID)));
  a.message(
    "server",
    msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_OK, fileDescriptors([["report.xlsx", 1234], ["b.txt", 5]])),
  );
  assert.equal(events.length, 1);
  const e = events[0];
  assert.ok(e.type === "clipboard_files" && e.from === "server");
  assert.deepEqual(e.files, [
    { name: "report.xlsx", size: 1234, directory: false },
    { name: "b.txt", size: 5, directory: false },
  ]);
  a.message("client", msg(CB_FORMAT_DATA_REQUEST, 0, u32(CF_UNICODETEXT)));
  a.message("server", msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_OK, encodeUtf16("x".repeat(5000) + "\0")));
  const t = events[1];
  assert.ok(t.type === "clipboard_text" && t.truncated && t.text.length === 4096 && t.length === 5000);
});

Deno.test("ClipboardAudit ignores responses nobody asked for and failed responses", () => {
  const { a, events } = setup();
  a.message("client", msg(CB_FORMAT_DATA_RESPONSE, CB_RESPONSE_OK, encodeUtf16("unsolicited\0")));
  a.message("server", msg(CB_FORMAT_DATA_REQUEST, 0, u32(CF_UNICODETEXT)));
  a.message("client", msg(CB_FORMAT_DATA_RESPONSE, 2, new Uint8Array(0)));
  assert.deepEqual(events, []);
});
