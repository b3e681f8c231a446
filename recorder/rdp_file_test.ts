import assert from "node:assert/strict";
import {
  createRecordingWriter,
  decodeChannelData,
  decodeMeta,
  decodeScreenResize,
  encodeChannelData,
  encodeMeta,
  encodeScreenResize,
  openRecording,
  openRecordingWriter,
  readRecording,
  RecordingFormatError,
  type RecordingHeader,
  type RecordingRecord,
  type RecordingWriteError,
  RecordType,
} from "./rdp_file.ts";

const header: RecordingHeader = {
  startedAt: "2024-05-01T10:00:00.000Z",
  width: 1024,
  height: 768,
  colorDepth: 32,
  sessionId: "sess-1",
  source: { address: "127.0.0.5", port: 50000 },
  target: { host: "127.0.0.9", port: 3389 },
  channels: [{ id: 1004, name: "rdpdr" }, { id: 1005, name: "cliprdr" }],
  clientCoreData: { base64: "AQIDBA==", summary: { desktopWidth: 1024 } },
};

async function collect(path: string, chunkSize?: number): Promise<RecordingRecord[]> {
  const out: RecordingRecord[] = [];
  for await (const r of readRecording(path, { chunkSize })) out.push(r);
  return out;
}

async function writeSample(path: string): Promise<void> {
  let now = 1000;
  const w = await openRecordingWriter(path, header, { clock: () => now });
  assert.ok(w.append(RecordType.SERVER_FASTPATH, new Uint8Array([0, 5, 1, 2, 3]), 1000));
  assert.ok(w.append(RecordType.SERVER_SLOWPATH, new Uint8Array([9, 9]), 1010.4));
  assert.ok(w.append(RecordType.CLIENT_FASTPATH_INPUT, new Uint8Array([4]), 1020));
  assert.ok(w.append(RecordType.CLIENT_SLOWPATH_INPUT, new Uint8Array([]), 1020));
  assert.ok(
    w.append(RecordType.SCREEN_RESIZE, encodeScreenResize({ width: 800, height: 600, bpp: 16 }), 1500),
  );
  assert.ok(w.append(RecordType.CHANNEL_DATA, encodeChannelData(1005, new Uint8Array([7, 8])), 1600));
  now = 2000;
  assert.ok(w.append(RecordType.META, encodeMeta({ kind: "clipboard", text: "héllo" })));
  now = 2500;
  const stats = await w.close();
  assert.equal(stats.failed, null);
  assert.equal(stats.records, 7);
}

Deno.test("openRecordingWriter() and readRecording() round-trip every record type", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.rdprec`;
    await writeSample(path);
    const reader = await openRecording(path);
    assert.deepEqual(reader.header, header);
    const recs: RecordingRecord[] = [];
    for await (const r of reader) recs.push(r);
    reader.close();
    assert.equal(reader.complete, true);
    assert.equal(reader.truncated, false);
    assert.equal(reader.position, reader.fileSize);
    assert.deepEqual(recs.map((r) => [r.type, r.offsetMillis]), [
      [RecordType.SERVER_FASTPATH, 0],
      [RecordType.SERVER_SLOWPATH, 10],
      [RecordType.CLIENT_FASTPATH_INPUT, 20],
      [RecordType.CLIENT_SLOWPATH_INPUT, 20],
      [RecordType.SCREEN_RESIZE, 500],
      [RecordType.CHANNEL_DATA, 600],
      [RecordType.META, 1000],
      [RecordType.END, 1500],
    ]);
    assert.deepEqual([...recs[0].payload], [0, 5, 1, 2, 3]);
    assert.deepEqual(decodeScreenResize(recs[4].payload), { width: 800, height: 600, bpp: 16 });
    const ch = decodeChannelData(recs[5].payload);
    assert.equal(ch.channelId, 1005);
    assert.deepEqual([...ch.data], [7, 8]);
    assert.deepEqual(decodeMeta(recs[6].payload), { kind: "clipboard", text: "héllo" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecordingWriter() keeps offsets monotonic when the caller's times go backwards", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/m.rdprec`;
    const w = await openRecordingWriter(path, header, { clock: () => 0 });
    w.append(RecordType.META, encodeMeta({ a: 1 }), 50);
    w.append(RecordType.META, encodeMeta({ a: 2 }), 20);
    await w.close();
    assert.deepEqual((await collect(path)).map((r) => r.offsetMillis), [50, 50, 50]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRecording() stops quietly at a truncated final record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.rdprec`;
    await writeSample(path);
    const full = await Deno.readFile(path);
    const all = await collect(path);
    // Cut inside the META record's payload, inside its 9-byte header, and exactly before END.
    const meta = all[6].fileOffset, end = all[7].fileOffset;
    for (
      const [cut, expectRecords, truncated] of [[end - 3, 6, true], [meta + 4, 6, true], [
        end,
        7,
        false,
      ]] as const
    ) {
      const p = `${dir}/cut${cut}.rdprec`;
      await Deno.writeFile(p, full.subarray(0, cut));
      const reader = await openRecording(p);
      let n = 0;
      for await (const _ of reader) n++;
      reader.close();
      assert.equal(n, expectRecords, `cut at ${cut}`);
      assert.equal(reader.truncated, truncated, `cut at ${cut}`);
      assert.equal(reader.complete, false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecording() rejects corrupted or foreign headers with RecordingFormatError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/h.rdprec`;
    await writeSample(path);
    const good = await Deno.readFile(path);
    const hdrLen = new DataView(good.buffer).getUint32(10, true);
    const cases: [string, (b: Uint8Array) => Uint8Array, string][] = [
      ["bad magic", (b) => (b[0] = 0x58, b), "bad_magic"],
      ["other file type", () => new TextEncoder().encode("%PDF-1.7\n"), "bad_magic"],
      ["empty file", () => new Uint8Array(0), "truncated_header"],
      ["version 2", (b) => (b[8] = 2, b), "unsupported_version"],
      ["huge header length", (b) => (b[13] = 0x7f, b), "bad_header"],
      ["header cut short", (b) => b.subarray(0, 14 + hdrLen - 1), "truncated_header"],
      ["not JSON", (b) => (b[14] = 0x21, b), "bad_header"],
      ["invalid UTF-8", (b) => (b[20] = 0xff, b), "bad_header"],
      ["missing width", (b) => replaceJson(b, '"width":1024', '"wodth":1024'), "bad_header"],
    ];
    for (const [name, mutate, code] of cases) {
      const p = `${dir}/bad.rdprec`;
      await Deno.writeFile(p, mutate(good.slice()));
      await assert.rejects(openRecording(p), (e) => {
        assert.ok(e instanceof RecordingFormatError, name);
        assert.equal(e.code, code, name);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function replaceJson(b: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const text = new TextDecoder().decode(b.subarray(14));
  const i = text.indexOf(from);
  assert.ok(i >= 0);
  b.set(new TextEncoder().encode(to), 14 + i);
  return b;
}

Deno.test("readRecording() throws RecordingFormatError on corrupted records", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/r.rdprec`;
    await writeSample(path);
    const good = await Deno.readFile(path);
    const recs = await collect(path);
    const second = recs[1].fileOffset, end = recs[7].fileOffset;
    const cases: [string, (b: Uint8Array) => Uint8Array][] = [
      ["unknown type", (b) => (b[second] = 0x42, b)],
      ["time goes backwards", (b) => (b.set([0, 0, 0, 0], end + 1), b)],
      ["absurd length", (b) => (b.set([0xff, 0xff, 0xff, 0x7f], second + 5), b)],
      ["END with payload", (b) => (b[end + 5] = 1, b)],
      ["data after END", (b) => concat(b, new Uint8Array([RecordType.META, 0, 0, 0, 0, 0, 0, 0, 0]))],
      ["junk after END", (b) => concat(b, new Uint8Array([1, 2]))],
    ];
    for (const [name, mutate] of cases) {
      const p = `${dir}/bad.rdprec`;
      await Deno.writeFile(p, mutate(good.slice()));
      await assert.rejects(collect(p), (e) => {
        assert.ok(e instanceof RecordingFormatError, name);
        assert.equal(e.code, "bad_record", name);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("readRecording() streams a large file with bounded buffer memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/big.rdprec`;
    let t = 0;
    const w = await openRecordingWriter(path, header, { clock: () => t, maxPendingBytes: 64 << 20 });
    const payload = new Uint8Array(16 << 10);
    let expectedSum = 0;
    for (let i = 0; i < 2500; i++) { // ≈ 40 MiB
      payload.fill(i & 0xff);
      payload[0] = (i >> 8) & 0xff;
      expectedSum += (i & 0xff) * (payload.length - 1) + ((i >> 8) & 0xff);
      t = i;
      assert.ok(w.append(RecordType.SERVER_FASTPATH, payload));
      if (w.pendingBytes > 8 << 20) await new Promise((r) => setTimeout(r, 5));
    }
    const big = new Uint8Array(1 << 20).fill(3); // one record bigger than the read chunk
    w.append(RecordType.SERVER_SLOWPATH, big);
    await w.close();
    assert.ok((await Deno.stat(path)).size > 40e6);

    const reader = await openRecording(path, { chunkSize: 64 << 10 });
    let sum = 0, n = 0, peakBeforeBig = 0;
    for await (const r of reader) {
      if (r.type === RecordType.SERVER_FASTPATH) {
        for (const b of r.payload) sum += b;
        peakBeforeBig = reader.peakBufferBytes;
      }
      n++;
    }
    reader.close();
    assert.equal(n, 2502);
    assert.equal(sum, expectedSum);
    assert.equal(peakBeforeBig, 64 << 10);
    assert.ok(reader.peakBufferBytes <= 2 << 20, `peak ${reader.peakBufferBytes}`);
    assert.equal(reader.complete, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecordingWriter() creates a new file with mode 0600 and never overwrites", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/mode.rdprec`;
    const w = await openRecordingWriter(path, header);
    await w.close();
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await assert.rejects(openRecordingWriter(path, header), Deno.errors.AlreadyExists);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecordingWriter() validates the header before creating a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = { ...header, width: 0 };
    await assert.rejects(openRecordingWriter(`${dir}/x.rdprec`, bad), RecordingFormatError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createRecordingWriter() reports queue_full without blocking when the disk stalls", async () => {
  const written: Uint8Array[] = [];
  let release!: () => void;
  const stalled = new Promise<void>((r) => (release = r));
  const sink = {
    async write(p: Uint8Array) {
      await stalled;
      written.push(p.slice());
      return p.length;
    },
    close() {},
  };
  const errors: RecordingWriteError[] = [];
  const w = createRecordingWriter(sink, header, { maxPendingBytes: 100_000, onError: (e) => errors.push(e) });
  const chunk = new Uint8Array(10_000);
  let accepted = 0;
  const t0 = performance.now();
  while (w.append(RecordType.SERVER_FASTPATH, chunk)) accepted++;
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(accepted, 9); // preamble + 9 × (10 000 + 9) fit under 100 000
  assert.equal(w.failed?.code, "queue_full");
  assert.equal(w.append(RecordType.META, encodeMeta({})), false);
  await Promise.resolve();
  assert.deepEqual(errors.map((e) => e.code), ["queue_full"]);
  release();
  const stats = await w.close();
  assert.equal(stats.failed?.code, "queue_full");
  assert.ok(written.length >= 1); // what was in flight got written; no END follows
});

Deno.test("drained() resolves once the queue shrank to the mark, and at once when it is there", async () => {
  const gates: (() => void)[] = [];
  const sink = {
    write(p: Uint8Array) {
      return new Promise<number>((r) => gates.push(() => r(p.length)));
    },
    close() {},
  };
  const w = createRecordingWriter(sink, header, { maxPendingBytes: 1 << 20 });
  await w.drained(1 << 20); // under the mark: at once
  const chunk = new Uint8Array(50_000);
  for (let i = 0; i < 8; i++) w.append(RecordType.SERVER_FASTPATH, chunk);
  assert.ok(w.pendingBytes > 400_000);
  let done = false;
  const waiting = w.drained(100_000).then(() => (done = true));
  // let the writes through one at a time: drained() waits until what is left is under the mark
  while (w.pendingBytes > 100_000) {
    assert.equal(done, false);
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 1));
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 1));
  }
  await waiting;
  assert.ok(done);
  const closing = w.close();
  for (let i = 0; i < 100 && w.pendingBytes > 0; i++) {
    while (gates.length) gates.shift()!();
    await new Promise((r) => setTimeout(r, 1));
  }
  const stats = await closing;
  assert.equal(stats.failed, null);
  assert.equal(stats.records, 8);
});

Deno.test("the writer copies each record: a caller reusing its buffer changes nothing written", async () => {
  const chunks: Uint8Array[] = [];
  const sink = {
    async write(p: Uint8Array) {
      await new Promise((r) => setTimeout(r, 0));
      chunks.push(p.slice());
      return p.length;
    },
    close() {},
  };
  const w = createRecordingWriter(sink, header, { maxPendingBytes: 64 << 20 });
  const buf = new Uint8Array(30_000); // several records per slab, and records across slab ends
  for (let i = 0; i < 300; i++) assert.ok(w.append(RecordType.SERVER_FASTPATH, buf.fill(i & 0xff), i));
  await w.close();
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/r.rdprec`, all);
    const records = (await collect(`${dir}/r.rdprec`)).filter((r) => r.type === RecordType.SERVER_FASTPATH);
    assert.equal(records.length, 300);
    records.forEach((r, i) => {
      assert.equal(r.payload.length, 30_000);
      assert.ok(r.payload.every((b) => b === (i & 0xff)), `record ${i}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createRecordingWriter() reports an io error when the disk is full", async () => {
  const full = await Deno.open("/dev/full", { write: true });
  const errors: RecordingWriteError[] = [];
  const w = createRecordingWriter(full, header, { onError: (e) => errors.push(e) });
  w.append(RecordType.SERVER_FASTPATH, new Uint8Array(100));
  const stats = await w.close();
  assert.equal(stats.failed?.code, "io");
  assert.equal(stats.bytesWritten, 0);
  assert.deepEqual(errors.map((e) => e.code), ["io"]);
  assert.equal(w.append(RecordType.SERVER_FASTPATH, new Uint8Array(1)), false);
});

Deno.test("append() rejects an oversized record but keeps recording", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/big1.rdprec`;
    const errors: string[] = [];
    const w = await openRecordingWriter(path, header, { onError: (e) => errors.push(e.code) });
    assert.equal(w.append(RecordType.CHANNEL_DATA, new Uint8Array((16 << 20) + 1)), false);
    assert.equal(w.append(RecordType.META, encodeMeta({ ok: true })), true);
    await w.close();
    assert.deepEqual(errors, ["too_large"]);
    assert.deepEqual((await collect(path)).map((r) => r.type), [RecordType.META, RecordType.END]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecordingWriter() writes every record when append() and close() follow open at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let k = 0; k < 20; k++) {
      const path = `${dir}/burst${k}.rdprec`;
      const w = await openRecordingWriter(path, header, { clock: () => 0 });
      for (let i = 0; i < 7; i++) w.append(RecordType.SERVER_FASTPATH, new Uint8Array(100 * k + i));
      const stats = await w.close();
      assert.equal(stats.bytesWritten, (await Deno.stat(path)).size);
      const recs = await collect(path);
      assert.equal(recs.length, 8, `run ${k}`);
      assert.equal(recs.at(-1)!.type, RecordType.END);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
