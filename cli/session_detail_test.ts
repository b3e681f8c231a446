import assert from "node:assert/strict";
import {
  channelRows,
  formatBytes,
  forwardRows,
  type RecordingDetail,
  recordingRows,
  renderDetail,
  type SessionDetail,
  transferRows,
} from "./session_detail.ts";
import { formatDuration } from "./sessions.ts";

const base: SessionDetail = {
  id: 7,
  session_id: "abcd234567",
  user_id: 1,
  server_id: 2,
  user_name: "alice",
  server_name: "web1",
  protocol: "ssh",
  source_ip: "127.0.0.10",
  proxy_ip: "127.0.0.1",
  backend_ip: "127.0.0.5",
  backend_port: 22,
  ssh_login: "root",
  subsystem: null,
  ssh_agent_used: false,
  started_at: new Date("2026-11-28T04:00:00Z"),
  ended_at: new Date("2026-11-28T04:01:05Z"),
  duration_seconds: 65,
  is_active: false,
  termination_reason: "normal",
  termination_detail: "client closed",
  recording_path: "/r/abcd234567-1.cast",
  recording_size: 2048,
  policy_id: 3,
  node_id: "node-a",
  metadata: {
    channels: [
      {
        n: 1,
        type: "exec",
        command: "echo hi",
        pty: { term: "xterm", cols: 80, rows: 24 },
        exit: { status: 0 },
      },
      { n: 2, type: "subsystem", subsystem: "sftp", exit: { signal: "SIGTERM" } },
    ],
    forwards: [{ kind: "direct", host: "db.internal", port: 5432, allowed: true, count: 3 }],
    transfers: [
      { protocol: "sftp", op: "write", path: "/home/a/x.bin", bytes: 2_500_000, sha256: "ab".repeat(32) },
      {
        protocol: "scp",
        op: "upload",
        path: "/tmp/big",
        bytes: 3 * 2 ** 20,
        sha256: "cd".repeat(32),
        kept: false,
        not_kept: "over_cap",
        cap_bytes: 2 ** 20,
      },
      { protocol: "scp", op: "download", path: "k", bytes: 1, sha256: "ef".repeat(32), kept: true },
      { protocol: "sftp", op: "rename", path: "/a", to: "/b", bytes: 0 },
    ],
    agent_forwarded: true,
    notes: ["host key pinned on first use: ssh-ed25519 AAAA"],
  },
  recordings: [],
};

const rec = (over: Partial<RecordingDetail>): RecordingDetail => ({
  id: 1,
  session_id: 7,
  kind: "asciicast",
  channel: "shell",
  path: "/r/abcd234567-1.cast",
  size: 2048,
  started_at: new Date("2026-11-28T04:00:00Z"),
  ended_at: new Date("2026-11-28T04:01:05Z"),
  file_size: 2048,
  file_error: null,
  conversion: null,
  ...over,
});

Deno.test("formatBytes() prints bytes and binary units", () => {
  assert.equal(formatBytes(null), "-");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(2048), "2.0 KiB");
  assert.equal(formatBytes(2_500_000), "2.4 MiB");
});

Deno.test("channelRows(), forwardRows() and transferRows() read the proxies' metadata", () => {
  assert.deepEqual(channelRows(base.metadata), [
    ["1", "exec", "echo hi", "xterm 80x24", "0", null],
    ["2", "subsystem", "sftp", null, "SIGTERM", null],
  ]);
  assert.deepEqual(forwardRows(base.metadata), [["direct", "db.internal:5432", "allowed", "3"]]);
  assert.deepEqual(transferRows(base.metadata), [
    ["sftp", "write", "/home/a/x.bin", "2.4 MiB", "ab".repeat(32), null],
    ["scp", "upload", "/tmp/big", "3.0 MiB", "cd".repeat(32), "not kept: over the cap (1.0 MiB)"],
    ["scp", "download", "k", "1 B", "ef".repeat(32), "kept"],
    ["sftp", "rename", "/a -> /b", "0 B", null, null],
  ]);
  const rdp = { files: [{ type: "file", device: "C", path: "\\doc.txt", action: "read" }] };
  assert.deepEqual(transferRows(rdp), [["rdp drive", "read", "C:\\doc.txt", null, null, null]]);
});

Deno.test("the metadata readers ignore shapes they do not know instead of crashing", () => {
  for (const md of [{}, { channels: "x", forwards: [1, null], transfers: {} }, { channels: [null, [], 3] }]) {
    assert.deepEqual(channelRows(md), []);
    assert.deepEqual(forwardRows(md), []);
    assert.deepEqual(transferRows(md), []);
  }
});

Deno.test("recordingRows() shows a missing file and an RDP recording's MP4 state", () => {
  assert.deepEqual(recordingRows([rec({ file_size: null, file_error: "file missing" })], false), [
    [1, "asciicast", "shell", "/r/abcd234567-1.cast", "(file missing)", "closed"],
  ]);
  const conv = { id: 4, progress: 42.4, error: null, output_path: null, finished_at: null };
  const rdp = (c: RecordingDetail["conversion"]) =>
    recordingRows([rec({ kind: "rdp", channel: null, ended_at: null, conversion: c })], true)[0].slice(5);
  assert.deepEqual(rdp(null), ["open", "not converted"]);
  assert.deepEqual(rdp({ ...conv, state: "running" }), ["open", "job 4 running 42%"]);
  assert.deepEqual(rdp({ ...conv, state: "done", output_path: "/mp4/x.mp4" }), [
    "open",
    "job 4 done: /mp4/x.mp4",
  ]);
  assert.deepEqual(rdp({ ...conv, state: "failed", error: "bad file" }), ["open", "job 4 failed: bad file"]);
});

Deno.test("renderDetail() prints the fields, the non-empty lists and the recordings", () => {
  const text = renderDetail({ ...base, recordings: [rec({})] }, formatDuration);
  assert.match(text, /^FIELD +VALUE$/m);
  assert.match(text, /^session +abcd234567$/m);
  assert.match(text, /^backend +127\.0\.0\.5:22$/m);
  assert.match(text, /^duration +1m05s$/m);
  assert.match(text, /^status +normal$/m);
  assert.match(text, /^detail +client closed$/m);
  assert.match(text, /^channels:\n#/m);
  assert.match(text, /^forwarded:\nKIND/m);
  assert.match(text, /^transfers:\nPROTOCOL/m);
  assert.match(text, /^agent +forwarded, not used$/m);
  assert.match(text, /^notes:\nNOTE\nhost key pinned on first use: ssh-ed25519 AAAA$/m);
  assert.match(text, /^1 +asciicast +shell +\/r\/abcd234567-1\.cast +2\.0 KiB +closed$/m);
  const bare = renderDetail({ ...base, metadata: {}, is_active: true, ended_at: null }, formatDuration);
  assert.match(bare, /^status +active$/m);
  assert.match(bare, /^duration +.* \(so far\)$/m);
  assert.match(bare, /^recordings: none$/m);
  assert.doesNotMatch(bare, /channels:/);
});
