import assert from "node:assert/strict";
import { buildFfmpegArgs } from "./ffmpeg_args.ts";

Deno.test("buildFfmpegArgs() reads Matroska from stdin and writes faststart H.264/yuv420p MP4 with true timestamps", () => {
  assert.deepEqual(buildFfmpegArgs({ width: 1024, height: 768, output: "/data/rec/1.mp4" }), [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"],
    ...["-f", "matroska", "-i", "pipe:0"],
    ...["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"],
    ...["-fps_mode", "vfr", "-force_key_frames", "expr:gte(t,n_forced*10)"],
    ...["-video_track_timescale", "1000", "-movflags", "+faststart", "-f", "mp4", "-y", "/data/rec/1.mp4"],
  ]);
});

Deno.test("buildFfmpegArgs() pads odd sizes to even with black", () => {
  const cases: [number, number, string | null][] = [
    [1023, 768, "pad=1024:768:0:0:black"],
    [1024, 767, "pad=1024:768:0:0:black"],
    [1, 1, "pad=2:2:0:0:black"],
    [2, 2, null],
  ];
  for (const [width, height, filter] of cases) {
    const args = buildFfmpegArgs({ width, height, output: "o.mp4" });
    const i = args.indexOf("-vf");
    assert.equal(i < 0 ? null : args[i + 1], filter, `${width}x${height}`);
    if (i >= 0) assert.ok(i > args.indexOf("-i"), "the filter is an output option");
  }
});

Deno.test("buildFfmpegArgs() passes quality, preset, threads, keyframe interval and input", () => {
  const args = buildFfmpegArgs({
    width: 640,
    height: 480,
    output: "o.mp4",
    input: "/tmp/in.mkv",
    crf: 30,
    preset: "ultrafast",
    threads: 2,
    keyframeSeconds: 2.5,
  });
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(after("-i"), "/tmp/in.mkv");
  assert.equal(after("-crf"), "30");
  assert.equal(after("-preset"), "ultrafast");
  assert.equal(after("-threads"), "2");
  assert.equal(after("-force_key_frames"), "expr:gte(t,n_forced*2.5)");
  assert.equal(args.at(-1), "o.mp4");
});

Deno.test("buildFfmpegArgs() rejects values ffmpeg would misread", () => {
  const base = { width: 10, height: 10, output: "o.mp4" };
  for (
    const bad of [
      { ...base, width: 0 },
      { ...base, height: 1.5 },
      { ...base, width: 20000 },
      { ...base, crf: 52 },
      { ...base, preset: "turbo" },
      { ...base, keyframeSeconds: 0 },
      { ...base, output: "" },
      { ...base, output: "-i" },
    ]
  ) {
    assert.throws(() => buildFfmpegArgs(bad), RangeError, JSON.stringify(bad));
  }
});

Deno.test("buildFfmpegArgs() with lossless encodes RGB at qp 0 instead of lossy yuv420p", () => {
  const args = buildFfmpegArgs({ width: 64, height: 48, output: "o.mp4", lossless: true }).join(" ");
  assert.match(args, /-c:v libx264rgb -preset veryfast -qp 0 -pix_fmt rgb24 /);
  assert.doesNotMatch(args, /yuv420p|-crf/);
});
