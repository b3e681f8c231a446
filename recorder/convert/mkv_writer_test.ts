import assert from "node:assert/strict";
import { MkvRawVideoWriter, vintSize } from "./mkv_writer.ts";

Deno.test("vintSize() encodes EBML sizes in the shortest form, never as all-ones", () => {
  const cases: [number, number[]][] = [
    [0, [0x80]],
    [126, [0xfe]],
    [127, [0x40, 0x7f]], // 0xFF would mean "unknown size"
    [16382, [0x7f, 0xfe]],
    [16383, [0x20, 0x3f, 0xff]],
    [3 * 1024 * 1024 + 4, [0x10, 0x30, 0x00, 0x04]],
  ];
  for (const [n, bytes] of cases) assert.deepEqual(vintSize(n), bytes, `${n}`);
  assert.throws(() => vintSize(-1), RangeError);
});

/** Does `hay` contain these bytes (a string stands for its ASCII bytes)? */
function has(hay: Uint8Array, needle: string | number[]): boolean {
  const n = typeof needle === "string" ? [...new TextEncoder().encode(needle)] : needle;
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("MkvRawVideoWriter.header() declares one RGBA V_UNCOMPRESSED track with ms timestamps", () => {
  const h = new MkvRawVideoWriter(320, 200).header();
  assert.deepEqual([...h.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3]);
  for (const s of ["matroska", "V_UNCOMPRESSED", "RGBA"]) assert.ok(has(h, s), s);
  assert.ok(has(h, [0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40]), "TimestampScale 1 000 000 ns");
  assert.ok(
    has(h, [0xb0, 0x82, 0x01, 0x40]) && has(h, [0xba, 0x81, 0xc8]),
    "PixelWidth 320, PixelHeight 200",
  );
});

Deno.test("MkvRawVideoWriter.frameHeader() opens clusters as needed and codes time relative to them", () => {
  const w = new MkvRawVideoWriter(2, 1);
  const first = w.frameHeader(1000, 500);
  assert.deepEqual([...first.subarray(0, 4)], [0x1f, 0x43, 0xb6, 0x75]); // Cluster
  assert.deepEqual([...first.subarray(12, 16)], [0xe7, 0x82, 0x03, 0xe8]); // Timestamp 1000
  assert.deepEqual([...first.subarray(-4)], [0x81, 0x00, 0x00, 0x00]); // track 1, +0 ms, no flags
  const second = w.frameHeader(1500, 100);
  assert.equal(second[0], 0xa0); // BlockGroup, same cluster
  assert.deepEqual([...second.subarray(-4)], [0x81, 0x01, 0xf4, 0x00]); // +500 ms
  assert.deepEqual([...w.frameHeader(40_000, 1).subarray(0, 4)], [0x1f, 0x43, 0xb6, 0x75]);
  assert.throws(() => w.frameHeader(39_999, 1), RangeError);
  assert.throws(() => w.frameHeader(40_001, 0), RangeError);
});

Deno.test("ffprobe reads our Matroska stream with the frame times and durations we wrote", async () => {
  const w = new MkvRawVideoWriter(4, 2);
  const parts = [w.header()];
  for (const [pts, dur] of [[0, 400], [400, 39_600], [40_000, 1]]) {
    parts.push(w.frameHeader(pts, dur), new Uint8Array(32));
  }
  const path = await Deno.makeTempFile({ suffix: ".mkv" });
  try {
    await Deno.writeFile(path, new Uint8Array(parts.flatMap((p) => [...p])));
    const out = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-show_entries",
        "packet=pts,duration:stream=codec_name,pix_fmt,width,height",
        "-of",
        "json",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(info.packets.map((p: { pts: number; duration: number }) => [p.pts, p.duration]), [
      [0, 400],
      [400, 39_600],
      [40_000, 1],
    ]);
    const s = info.streams[0];
    assert.deepEqual([s.codec_name, s.pix_fmt, s.width, s.height], ["rawvideo", "rgba", 4, 2]);
  } finally {
    await Deno.remove(path);
  }
});
