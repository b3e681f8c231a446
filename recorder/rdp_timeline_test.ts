import assert from "node:assert/strict";
import { placeInRecording, rdpTimeline } from "./rdp_timeline.ts";

const t0 = Date.parse("2026-12-05T10:00:00Z");
const iso = (s: number) => new Date(t0 + s * 1000).toISOString();
const recordings = [
  { id: 7, kind: "rdp", started_at: new Date(t0) },
  { id: 9, kind: "rdp", started_at: new Date(t0 + 60_000) },
  { id: 3, kind: "asciicast", started_at: new Date(t0 + 30_000) },
];

Deno.test("placeInRecording: the recording running then (a reconnect starts another), the offset into it", () => {
  assert.deepEqual(placeInRecording(iso(5), recordings)?.recordingId, 7);
  assert.equal(placeInRecording(iso(5), recordings)?.offsetSeconds, 5);
  assert.deepEqual([
    placeInRecording(iso(75), recordings)?.recordingId,
    placeInRecording(iso(75), recordings)?.offsetSeconds,
  ], [9, 15]);
  assert.equal(placeInRecording("not a time", recordings), null);
  assert.equal(placeInRecording(iso(1), [])?.recordingId, null);
});

Deno.test("rdpTimeline: logon, typed lines, clipboard and files in order per recording, long texts cut", () => {
  const events = rdpTimeline({
    logged_on_at: iso(2),
    key_lines: [{ at: iso(8), text: "notepad" }, { at: iso(70), text: "x".repeat(300) }],
    clipboard: [
      { type: "clipboard_text", at: iso(4), from: "server", text: "secret" },
      { type: "clipboard_files", at: iso(65), from: "client", files: [{ name: "a.txt" }, { name: "b.pdf" }] },
    ],
    files: [{ at: iso(9), device: "home", path: "/docs/report.pdf", action: "read" }],
  }, recordings);
  assert.deepEqual(events.map((e) => [e.recordingId, e.ms, e.kind]), [
    [7, 2000, "logon"],
    [7, 4000, "clipboard"],
    [7, 8000, "typed"],
    [7, 9000, "file"],
    [9, 5000, "file"],
    [9, 10000, "typed"],
  ]);
  assert.equal(events[1].text, "copied on the server: secret");
  assert.equal(events[3].text, "read home:/docs/report.pdf");
  assert.equal(events[4].text, "clipboard files (client): a.txt, b.pdf");
  assert.equal(events[5].text.length, 120);
});
