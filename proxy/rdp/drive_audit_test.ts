import assert from "node:assert/strict";
import { ByteWriter } from "./pdu/mod.ts";
import { encodeUtf16 } from "./pdu/reader.ts";
import { DriveAudit } from "./drive_audit.ts";
import type { MetaEvent } from "./meta_events.ts";

const now = () => new Date("2025-06-01T12:00:00Z");
const at = now().toISOString();
const CORE = 0x4472;

function announce(): Uint8Array {
  const name = new TextEncoder().encode("home\0");
  return new ByteWriter().u16le(CORE).u16le(0x4441).u32le(1)
    .u32le(0x08).u32le(7).bytes(new TextEncoder().encode("HOME\0\0\0\0")).u32le(name.length).bytes(name)
    .finish();
}

function ioRequest(major: number, completionId: number, fileId: number, body: Uint8Array): Uint8Array {
  return new ByteWriter().u16le(CORE).u16le(0x4952).u32le(7).u32le(fileId).u32le(completionId).u32le(major)
    .u32le(0).bytes(body).finish();
}

function create(completionId: number, path: string, options = 0): Uint8Array {
  const p = encodeUtf16(path + "\0");
  const body = new ByteWriter().u32le(0x80000000).u32le(0).u32le(0).u32le(0).u32le(7).u32le(1).u32le(options)
    .u32le(p.length).bytes(p).finish();
  return ioRequest(0, completionId, 0, body);
}

function completion(completionId: number, fileId: number, status = 0): Uint8Array {
  return new ByteWriter().u16le(CORE).u16le(0x4943).u32le(7).u32le(completionId).u32le(status).u32le(fileId)
    .u8(1).finish();
}

const rw = (major: number, fileId: number) =>
  ioRequest(major, 99, fileId, new ByteWriter().u32le(4096).u32le(0).u32le(0).zeros(20).finish());

Deno.test("DriveAudit names the shared drive and the files the server opens, reads and writes", () => {
  const events: MetaEvent[] = [];
  const d = new DriveAudit((e) => events.push(e), now);
  d.message("client", announce());
  d.message("server", create(1, "\\secret\\plan.docx"));
  d.message("client", completion(1, 42));
  d.message("server", rw(3, 42)); // read: the file goes to the server
  d.message("server", rw(3, 42)); // a second read is not a new event
  d.message("server", create(2, "\\out.txt"));
  d.message("client", completion(2, 43));
  d.message("server", rw(4, 43)); // write: the server puts a file on the client
  d.message("server", create(3, "\\secret", 0x1)); // a directory listing is not a file event
  d.message("client", completion(3, 44));
  d.message("server", create(4, "\\missing.txt"));
  d.message("client", completion(4, 0, 0xc0000034)); // STATUS_OBJECT_NAME_NOT_FOUND
  assert.deepEqual(events, [
    { type: "drives", at, devices: [{ id: 7, name: "home", type: 8 }] },
    { type: "file", at, device: "home", path: "\\secret\\plan.docx", action: "open" },
    { type: "file", at, device: "home", path: "\\secret\\plan.docx", action: "read" },
    { type: "file", at, device: "home", path: "\\out.txt", action: "open" },
    { type: "file", at, device: "home", path: "\\out.txt", action: "write" },
  ]);
});
