import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { writeSyntheticSession } from "../convert/testdata/synth_session.ts";
import { RecordType } from "../rdp_file_format.ts";
import { createRenderer, type Renderer, restoreRenderer } from "../rdp_render/mod.ts";
import { applyRecord } from "./apply.ts";
import { IndexBuilder, keyframeFor } from "./index_builder.ts";
import { readKeyframe, recordingIndex } from "./index_store.ts";
import { decodeKeyframe, encodeKeyframe } from "./keyframe.ts";
import { RecordStream, type StreamRecord } from "./record_stream.ts";

const W = 640, H = 400;

async function synth(seconds: number): Promise<{ dir: string; path: string; bytes: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "jh-index-" });
  const path = `${dir}/s.rdprec`;
  await writeSyntheticSession(path, { width: W, height: H, seconds, seed: 7 });
  return { dir, path, bytes: await Deno.readFile(path) };
}

/** Every record of a file, copied, parsed in chunks of `chunk` bytes. */
function records(bytes: Uint8Array, chunk: number, from = 0, s = new RecordStream()): StreamRecord[] {
  const out: StreamRecord[] = [];
  for (let o = from; o < bytes.length; o += chunk) {
    s.push(bytes.subarray(o, o + chunk));
    for (let r; (r = s.next());) out.push({ ...r, payload: r.payload.slice() });
  }
  return out;
}

function playTo(r: Renderer, recs: StreamRecord[], t: number): Renderer {
  for (const rec of recs) if (rec.offsetMillis <= t) applyRecord(r, rec.type, rec.payload);
  return r;
}

Deno.test("the record stream reads the same records whatever the chunk size, and knows the END", async () => {
  const { dir, bytes } = await synth(3);
  try {
    const whole = records(bytes, bytes.length);
    assert.ok(whole.length > 20);
    assert.equal(whole.at(-1)!.type, RecordType.END);
    for (const chunk of [1, 7, 4096]) {
      const s = new RecordStream();
      const got = records(bytes, chunk, 0, s);
      assert.deepEqual(
        got.map((r) => [r.type, r.offsetMillis, r.fileOffset, r.payload.length]),
        whole.map((r) => [r.type, r.offsetMillis, r.fileOffset, r.payload.length]),
      );
      assert.deepEqual(s.end(), { complete: true, truncated: false, position: bytes.length });
    }
    // a cut-short file: records up to the cut, then "truncated" at the last whole record
    const cut = whole[whole.length - 5].fileOffset + 4;
    const s = new RecordStream();
    const part = records(bytes.subarray(0, cut), 1000, 0, s);
    assert.equal(part.length, whole.length - 5);
    assert.deepEqual(s.end(), {
      complete: false,
      truncated: true,
      position: whole[whole.length - 5].fileOffset,
    });
    // damage: an unknown record type names its byte offset
    const bad = bytes.slice();
    bad[whole[10].fileOffset] = 99;
    assert.throws(() => records(bad, 64), /unknown record type 99 \(at byte \d+\)/);
    assert.throws(() => records(new TextEncoder().encode("not a recording at all"), 64), /not a recording/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a keyframe survives encoding with its picture, pointer and pointer cache", async () => {
  const { dir, bytes } = await synth(4);
  try {
    const s = new RecordStream();
    const recs = records(bytes, 1 << 16, 0, s);
    const r = playTo(createRenderer({ width: W, height: H }), recs, Infinity);
    const snap = r.snapshot();
    const back = decodeKeyframe(encodeKeyframe(snap));
    assert.deepEqual(back, snap);
    assert.throws(() => decodeKeyframe(encodeKeyframe(snap).subarray(0, 100)), /keyframe ends early/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seeking from a keyframe gives the same picture as playing from the start", async () => {
  const { dir, bytes } = await synth(40);
  try {
    const s = new RecordStream();
    const recs = records(bytes, 1 << 16, 0, s);
    const b = new IndexBuilder(s.header!, { intervalMs: 3000 });
    const snaps = new Map<number, Uint8Array>();
    for (const rec of recs) {
      const k = b.feed(rec);
      if (k) snaps.set(k.entry.fileOffset, encodeKeyframe(k.snapshot));
    }
    assert.ok(b.keyframes.length >= 5, `${b.keyframes.length} keyframes`);
    for (let i = 1; i < b.keyframes.length; i++) {
      assert.ok(b.keyframes[i].t - b.keyframes[i - 1].t >= 3000, "keyframes at least the interval apart");
    }
    const end = recs.at(-1)!.offsetMillis;
    for (const t of [0, 1234, end / 3, end / 2, end - 1, end]) {
      const want = playTo(createRenderer({ width: W, height: H }), recs, t).frame();
      const k = keyframeFor(b.keyframes, t);
      let r: Renderer, rest: StreamRecord[];
      if (k === null) [r, rest] = [createRenderer({ width: W, height: H }), recs];
      else {
        const e = b.keyframes[k];
        assert.ok(e.t <= t);
        r = restoreRenderer(decodeKeyframe(snaps.get(e.fileOffset)!));
        // read from the keyframe's byte offset, as the browser does with a range request
        rest = records(
          bytes,
          1 << 12,
          e.fileOffset,
          new RecordStream(e.fileOffset, { header: s.header!, lastOffsetMillis: e.t }),
        );
        assert.ok(rest.every((x) => x.offsetMillis > e.t), "records after a keyframe are later than it");
      }
      const got = playTo(r, rest, t).frame();
      assert.equal(Buffer.compare(got.rgba, want.rgba), 0, `picture at ${t} ms`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an idle screen adds no keyframes", () => {
  const header = {
    startedAt: new Date(0).toISOString(),
    width: 64,
    height: 64,
    colorDepth: 32,
    sessionId: "x",
    source: { address: "192.0.2.1" },
    target: { host: "h", port: 3389 },
    channels: [],
  };
  const b = new IndexBuilder(header, { intervalMs: 1000 });
  // client input only (mouse moves) for a minute: nothing on screen changes
  const move = new Uint8Array([0x04, 0x09, 0x20, 0x00, 0x08, 0x10, 0x00, 0x10, 0x00]);
  for (let t = 0; t < 60_000; t += 500) {
    b.feed({ type: RecordType.CLIENT_FASTPATH_INPUT, offsetMillis: t, payload: move, fileOffset: t });
  }
  assert.equal(b.keyframes.length, 0);
  assert.equal(keyframeFor([{ t: 5, fileOffset: 1 }, { t: 9, fileOffset: 2 }], 4), null);
  assert.equal(keyframeFor([{ t: 5, fileOffset: 1 }, { t: 9, fileOffset: 2 }], 9), 1);
});

Deno.test("the stored index is built once, cached, rebuilt when the file changes, and says where a cut file stops", async () => {
  const { dir, path, bytes } = await synth(20);
  try {
    const idxDir = `${dir}/idx`;
    const a = await recordingIndex(path, 1, idxDir, { intervalMs: 2000 });
    assert.ok(a.keyframes.length >= 3);
    assert.equal(a.complete, true);
    assert.equal(a.stop, null);
    assert.equal((await Deno.stat(`${idxDir}/recording-1.json`)).mode! & 0o777, 0o640);
    const again = await recordingIndex(path, 1, idxDir, { intervalMs: 2000 });
    assert.equal(again.keyframeFile, a.keyframeFile, "the cached index is used");
    const kf = decodeKeyframe(gunzipSync(await readKeyframe(idxDir, a, 1)));
    assert.deepEqual([kf.width, kf.height], [W, H]);

    // cut the file inside a record: rebuilt, stops there
    const cutAt = a.keyframes[2].fileOffset + 5;
    await Deno.writeFile(path, bytes.subarray(0, cutAt));
    const cut = await recordingIndex(path, 1, idxDir, { intervalMs: 2000 });
    assert.notEqual(cut.keyframeFile, a.keyframeFile);
    assert.equal(cut.complete, false);
    assert.equal(cut.stop?.kind, "truncated");
    assert.equal(cut.stop?.fileOffset, a.keyframes[2].fileOffset);
    assert.match(cut.stop!.message, /cut short/);
    assert.ok([...Deno.readDirSync(idxDir)].every((e) => e.name !== a.keyframeFile), "old keyframes removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no keyframe falls between the fragments of one update", () => {
  const header = {
    startedAt: new Date(0).toISOString(),
    width: 64,
    height: 64,
    colorDepth: 32,
    sessionId: "x",
    source: { address: "192.0.2.1" },
    target: { host: "h", port: 3389 },
    channels: [],
  };
  // one fast-path PDU carrying one PTR_NULL (code 5) fragment: FIRST (2), NEXT (3), LAST (1)
  const fragment = (frag: number) => new Uint8Array([0x00, 6, 5 | (frag << 4), 1, 0, 0]);
  const b = new IndexBuilder(header, { intervalMs: 1000 });
  const feed = (t: number, payload: Uint8Array, type: RecordType = RecordType.SERVER_FASTPATH) =>
    b.feed({ type, offsetMillis: t, payload, fileOffset: t });
  feed(0, fragment(2));
  assert.equal(b.renderer.midUpdate, true);
  assert.equal(feed(5000, fragment(3)), null, "busy and due, but inside an update");
  assert.equal(feed(5001, fragment(1)), null);
  assert.equal(b.renderer.midUpdate, false);
  const move = new Uint8Array([0x04, 0x09, 0x20, 0x00, 0x08, 0x10, 0x00, 0x10, 0x00]);
  const k = feed(5002, move, RecordType.CLIENT_FASTPATH_INPUT);
  assert.deepEqual(k?.entry, { t: 5001, fileOffset: 5002 });
  assert.equal(k?.snapshot.pointer.visible, false, "the pointer was hidden by the reassembled update");
});
