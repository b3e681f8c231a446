import assert from "node:assert/strict";
import { decodeRgb24Frames } from "./testdata/decode_mp4.ts";
import {
  encodeMeta,
  openRecordingWriter,
  readRecording,
  type RecordingHeader,
  RecordType,
} from "../rdp_file.ts";
import {
  bitmapUpdate,
  cat,
  deactivateAll,
  demandActive,
  fastPathInput,
  fastPathPdu,
  fpMouse,
  fpUpdate,
  solid32,
} from "../rdp_render/testdata/pdu.ts";
import { encodePlanar } from "../rdp_render/testdata/planar_encoder.ts";
import { ConvertError, type ConvertProgress, renderRecordingToMp4 } from "./render_to_mp4.ts";
import { writeSyntheticSession } from "./testdata/synth_session.ts";

const header: RecordingHeader = {
  startedAt: new Date(0).toISOString(),
  width: 60,
  height: 40,
  colorDepth: 32,
  sessionId: "t",
  source: { address: "127.0.0.2" },
  target: { host: "127.0.0.3", port: 3389 },
  channels: [],
};

type Rec = [number, RecordType, Uint8Array];

/** Red desktop (fragmented update), green RLE block, resize to 64×48, blue planar block, END at 5 s. */
function sessionRecords(): Rec[] {
  const red = bitmapUpdate({
    left: 0,
    top: 0,
    width: 60,
    height: 40,
    bpp: 32,
    data: solid32(60, 40, [255, 0, 0]),
  });
  const green = bitmapUpdate({
    left: 0,
    top: 0,
    width: 32,
    height: 16,
    bpp: 16,
    compressed: true,
    data: new Uint8Array([0xf3, 0x00, 0x02, 0xe0, 0x07]), // MEGA_MEGA_COLOR_RUN 512 × RGB565 green
  });
  const blueRgba = new Uint8Array(32 * 24 * 4);
  for (let i = 0; i < blueRgba.length; i += 4) blueRgba.set([0, 0, 255, 255], i);
  const blue = bitmapUpdate({
    left: 32,
    top: 24,
    width: 32,
    height: 24,
    bpp: 32,
    compressed: true,
    data: encodePlanar(blueRgba, 32, 24),
  });
  return [
    [
      0,
      RecordType.SERVER_FASTPATH,
      fastPathPdu(fpUpdate(5, new Uint8Array(0)), fpUpdate(1, red.subarray(0, 5000), 2)),
    ],
    [0, RecordType.SERVER_FASTPATH, fastPathPdu(fpUpdate(1, red.subarray(5000), 1))],
    [400, RecordType.SERVER_FASTPATH, fastPathPdu(fpUpdate(1, green))],
    [1000, RecordType.SERVER_SLOWPATH, cat(deactivateAll(), demandActive(64, 48))],
    [2000, RecordType.SERVER_FASTPATH, fastPathPdu(fpUpdate(1, blue))],
    [2050, RecordType.CLIENT_FASTPATH_INPUT, fastPathInput(fpMouse(10, 10))],
    [2500, RecordType.META, encodeMeta({ kind: "keystrokes", text: "ls" })],
  ];
}

async function writeRecording(path: string, recs: Rec[], endAt = 5000): Promise<void> {
  let now = 0;
  const w = await openRecordingWriter(path, header, { clock: () => now });
  for (const [t, type, payload] of recs) assert.ok(w.append(type, payload, t));
  now = endAt;
  assert.equal((await w.close()).failed, null);
}

async function run(cmd: string, args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

Deno.test("renderRecordingToMp4() turns a synthetic recording into an MP4 with true timestamps and pixels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeRecording(`${dir}/s.rdprec`, sessionRecords());
    const progress: ConvertProgress[] = [];
    const result = await renderRecordingToMp4({
      input: `${dir}/s.rdprec`,
      output: `${dir}/s.mp4`,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });
    assert.deepEqual(result, {
      width: 64,
      height: 48,
      frames: 5,
      durationMs: 5000,
      complete: true,
      truncated: false,
    });

    const probe = JSON.parse(new TextDecoder().decode(
      await run("ffprobe", [
        "-v",
        "error",
        "-show_entries",
        "frame=pts_time:stream=codec_name,pix_fmt,width,height:format=duration",
        "-of",
        "json",
        `${dir}/s.mp4`,
      ]),
    ));
    const s = probe.streams[0];
    assert.deepEqual([s.codec_name, s.pix_fmt, s.width, s.height], ["h264", "yuv420p", 64, 48]);
    assert.deepEqual(probe.frames.map((f: { pts_time: string }) => Number(f.pts_time)), [0, 0.4, 1, 2, 5]);
    const duration = Number(probe.format.duration);
    assert.ok(duration >= 5 && duration <= 5.6, `duration ${duration}`);

    const raw = await decodeRgb24Frames(`${dir}/s.mp4`);
    const frameBytes = 64 * 48 * 3;
    assert.equal(raw.length, 5 * frameBytes);
    const frame = (n: number) => raw.subarray(n * frameBytes, (n + 1) * frameBytes);
    const near = (f: Uint8Array, x: number, y: number, rgb: number[], what: string) => {
      const got = [...f.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
      assert.ok(
        got.every((v, i) => Math.abs(v - rgb[i]) <= 16),
        `${what} at ${x},${y}: got ${got}, want ${rgb}`,
      );
    };
    const first = frame(0), last = frame(4);
    near(first, 10, 10, [255, 0, 0], "red desktop at 0 s");
    near(frame(1), 10, 6, [0, 255, 0], "green block from 0.4 s");
    near(frame(2), 45, 35, [255, 0, 0], "no blue before 2 s");
    near(last, 6, 6, [0, 255, 0], "green (16 bpp RLE)");
    near(last, 45, 8, [255, 0, 0], "red (32 bpp uncompressed, fragmented)");
    near(last, 10, 32, [255, 0, 0], "red below the green block");
    near(last, 46, 36, [0, 0, 255], "blue (planar)");
    near(last, 62, 6, [0, 0, 0], "area added by the resize");
    near(last, 10, 45, [0, 0, 0], "area added by the resize");

    assert.equal(progress.at(-1)?.percent, 100);
    assert.equal(progress.at(-1)?.etaMs, 0);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].percent >= progress[i - 1].percent);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderRecordingToMp4() fails with ConvertError('render') on orders and leaves no output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recs = sessionRecords().slice(0, 3);
    recs.push([700, RecordType.SERVER_FASTPATH, fastPathPdu(fpUpdate(0, new Uint8Array([1, 0])))]);
    await writeRecording(`${dir}/o.rdprec`, recs);
    await assert.rejects(renderRecordingToMp4({ input: `${dir}/o.rdprec`, output: `${dir}/o.mp4` }), (e) => {
      assert.ok(e instanceof ConvertError);
      assert.equal(e.code, "render");
      assert.match(e.message, /at 700 ms .*unsupported update: fast-path orders/);
      return true;
    });
    await assert.rejects(Deno.stat(`${dir}/o.mp4`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderRecordingToMp4() reports corrupt recordings, ffmpeg failures and aborts as ConvertError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/g.rdprec`;
    await writeRecording(good, sessionRecords());
    const bytes = await Deno.readFile(good);
    bytes[bytes.length - 9] = 0x77; // END record type → unknown
    await Deno.writeFile(`${dir}/bad.rdprec`, bytes);
    const cases: [string, Parameters<typeof renderRecordingToMp4>[0], string][] = [
      ["corrupt record", { input: `${dir}/bad.rdprec`, output: `${dir}/a.mp4` }, "recording"],
      ["ffmpeg missing", { input: good, output: `${dir}/b.mp4`, ffmpeg: "/nonexistent/ffmpeg" }, "ffmpeg"],
      ["unwritable output", { input: good, output: `${dir}/missing/dir/c.mp4` }, "ffmpeg"],
      ["aborted", { input: good, output: `${dir}/d.mp4`, signal: AbortSignal.abort() }, "aborted"],
    ];
    await Deno.writeTextFile(`${dir}/text.rdprec`, "hello");
    cases.push(["a text file", { input: `${dir}/text.rdprec`, output: `${dir}/e.mp4` }, "recording"]);
    for (const [name, opts, code] of cases) {
      await assert.rejects(renderRecordingToMp4(opts), (e) => {
        if (code === "aborted" && e instanceof DOMException) return true; // aborted before starting
        assert.ok(e instanceof ConvertError, `${name}: ${e}`);
        assert.equal(e.code, code, `${name}: ${e.message}`);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderRecordingToMp4() reports ffmpeg quitting mid-stream with its exit code and stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = `${dir}/s.rdprec`;
    await writeSyntheticSession(input, { width: 320, height: 240, seconds: 20, seed: 5 });
    const quitter = `${dir}/ffmpeg`; // takes a few frames, then fails as an encoder might
    await Deno.writeTextFile(
      quitter,
      "#!/bin/sh\nhead -c 400000 >/dev/null\necho 'encoder gave up' >&2\nexit 3\n",
    );
    await Deno.chmod(quitter, 0o755);
    await assert.rejects(
      renderRecordingToMp4({ input, output: `${dir}/o.mp4`, ffmpeg: quitter, pixelFormat: "i420" }),
      (e) => {
        assert.ok(e instanceof ConvertError, String(e));
        assert.equal(e.code, "ffmpeg");
        assert.match(e.message, /quit early \(exit 3\): encoder gave up/);
        return true;
      },
    );
    await assert.rejects(Deno.stat(`${dir}/o.mp4`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderRecordingToMp4() stops ffmpeg when aborted mid-way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recs: Rec[] = [];
    for (let i = 0; i < 400; i++) {
      const c = i % 255;
      recs.push([
        i * 100,
        RecordType.SERVER_FASTPATH,
        fastPathPdu(
          fpUpdate(
            1,
            bitmapUpdate({
              left: 0,
              top: 0,
              width: 60,
              height: 40,
              bpp: 32,
              data: solid32(60, 40, [c, c, c]),
            }),
          ),
        ),
      ]);
    }
    await writeRecording(`${dir}/long.rdprec`, recs, 40_000);
    const ac = new AbortController();
    const p = renderRecordingToMp4({
      input: `${dir}/long.rdprec`,
      output: `${dir}/long.mp4`,
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (pr) => pr.frames >= 20 && ac.abort(),
    });
    await assert.rejects(p, (e) => e instanceof ConvertError && e.code === "aborted");
    await assert.rejects(Deno.stat(`${dir}/long.mp4`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderRecordingToMp4() renders a recording torn by a kill (no END, last record cut) up to the tear", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/torn.rdprec`;
    await writeRecording(path, sessionRecords());
    // cut the file inside the blue update at 2 s, as a kill -9 of serve mid-write leaves it
    let blueAt = -1;
    for await (const r of readRecording(path)) if (r.offsetMillis === 2000) blueAt = r.fileOffset;
    assert.ok(blueAt > 0);
    await Deno.truncate(path, blueAt + 20);
    const result = await renderRecordingToMp4({ input: path, output: `${dir}/torn.mp4` });
    assert.equal(result.truncated, true);
    assert.equal(result.complete, false);
    assert.deepEqual([result.width, result.height], [64, 48]);
    const raw = await decodeRgb24Frames(`${dir}/torn.mp4`);
    const frameBytes = 64 * 48 * 3;
    assert.ok(raw.length >= 3 * frameBytes, `frames: ${raw.length / frameBytes}`);
    const last = raw.subarray(raw.length - frameBytes);
    const px = (x: number, y: number) => [...last.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    const near = (got: number[], rgb: number[]) => got.every((v, i) => Math.abs(v - rgb[i]) <= 16);
    assert.ok(near(px(6, 6), [0, 255, 0]), `green kept: ${px(6, 6)}`);
    assert.ok(near(px(46, 36), [255, 0, 0]), `no blue (torn away): ${px(46, 36)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
