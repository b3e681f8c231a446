// Conversion benchmark: a synthetic but realistic 10-minute 1920×1080 RDP session (typing, command
// output, scrolling back, dragging a dialog, mouse moves, a blinking caret; generated here, seeded) is
// converted to MP4 the way the pool does it (I420 feed, CONVERSION_PRESET). Reports speed as a multiple
// of real time (wall clock, and from CPU time since the machine may be shared), peak RSS of the
// converter and of ffmpeg, and MP4 size, side by side with "veryfast" and with the first pipeline
// (RGBA feed, veryfast) as the baseline. Target: ≥ 20× real time. Bounded: < 5 min (a run that would
// overrun is stopped and its speed extrapolated from its progress).
//   deno run -A bench/convert/bench_convert.ts [--minutes 10] [--seed 1]
import { join } from "node:path";
import { writeSyntheticSession } from "../../recorder/convert/testdata/synth_session.ts";
import { CONVERSION_PRESET } from "../../recorder/convert/job_runner.ts";

const TARGET = 20;
const BUDGET_S = 290;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1] : fallback;
}

const minutes = Number(arg("minutes", "10"));
const seed = Number(arg("seed", "1"));
const variants: { label: string; preset: string; pixelFormat: "rgba" | "i420" }[] = [
  { label: `pool (i420, ${CONVERSION_PRESET})`, preset: CONVERSION_PRESET, pixelFormat: "i420" },
  { label: "i420, veryfast", preset: "veryfast", pixelFormat: "i420" },
  { label: "baseline (rgba, veryfast)", preset: "veryfast", pixelFormat: "rgba" },
];
if (!(minutes > 0 && minutes <= 60) || !Number.isInteger(seed)) throw new Error("bad --minutes or --seed");

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const work = new URL("./work/", import.meta.url).pathname;
await Deno.mkdir(work, { recursive: true });
// generator version in the name: a changed generator never reuses an old file
const input = join(work, `session-v1-${minutes}min-1920x1080-seed${seed}.rdprec`);
const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
console.log(
  `machine: ${navigator.hardwareConcurrency} CPUs, load average ${load} (other work slows the wall clock)`,
);

if (await Deno.stat(input).then(() => false, () => true)) {
  const t = performance.now();
  const tmp = `${input}.tmp`;
  await Deno.remove(tmp).catch(() => {});
  const s = await writeSyntheticSession(tmp, { width: 1920, height: 1080, seconds: minutes * 60, seed });
  await Deno.rename(tmp, input);
  console.log(
    `generated ${input} in ${((performance.now() - t) / 1000).toFixed(0)} s: ${s.records} records, ` +
      `${
        (s.bytes / 2 ** 20).toFixed(1)
      } MiB, ${s.keystrokes} keystrokes, ${s.scrolls} screen scrolls, ${s.drags} drags`,
  );
} else console.log(`reusing ${input}`);

interface Run {
  preset: string;
  pixelFormat: string;
  wallS: number;
  result: { frames: number; durationMs: number; width: number; height: number } | null;
  error: string | null;
  timedOut: boolean;
  progress: { percent: number; frames: number };
  denoCpuS: number;
  denoPeakRssKb: number;
  ffmpegCpuS: number;
  ffmpegPeakRssKb: number;
  outputBytes: number;
}

const sessionS = minutes * 60;
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const CPUS = navigator.hardwareConcurrency;
const speeds: { wall: number; idle: number }[] = [];
const w = Math.max(...variants.map((v) => v.label.length));
for (const { label, preset, pixelFormat } of variants) {
  const left = BUDGET_S - elapsed();
  if (left < 20) {
    console.log(`${label.padEnd(w)}  skipped (time budget spent)`);
    continue;
  }
  const output = join(work, `out-${preset}-${pixelFormat}.mp4`);
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./convert_child.ts", import.meta.url).pathname,
      input,
      output,
      preset,
      pixelFormat,
      String(Math.floor(left)),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const run = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!) as Run;
  await Deno.remove(output).catch(() => {});
  const done = run.result ? 1 : run.progress.percent / 100; // a stopped run is extrapolated
  const covered = sessionS * done;
  // with two CPUs to themselves the processes run side by side, but ffmpeg hardly spreads over more than
  // one (its main thread demuxes and hands over every 3 MiB frame; x264's frame threads wait on it), so
  // the slower process sets the pace: measured at load ≈ 2, wall ≈ ffmpeg's CPU time
  const idle = covered / Math.max(run.denoCpuS, run.ffmpegCpuS);
  speeds.push({ wall: covered / run.wallS, idle });
  console.log(
    `${label.padEnd(w)}  ${run.error && !run.timedOut ? `FAILED: ${run.error}; ` : ""}` +
      `${covered.toFixed(0)} s of session in ${run.wallS.toFixed(1)} s = ${
        (covered / run.wallS).toFixed(1)
      }× ` +
      `real time${run.timedOut ? ` (stopped at ${run.progress.percent}%)` : ""}; ` +
      `${run.result?.frames ?? run.progress.frames} frames; CPU ${run.denoCpuS.toFixed(1)} s converter + ` +
      `${run.ffmpegCpuS.toFixed(1)} s ffmpeg (≈ ${idle.toFixed(1)}× real time with ${CPUS} idle CPUs); ` +
      `peak RSS ${mib(run.denoPeakRssKb)} converter, ${mib(run.ffmpegPeakRssKb)} ffmpeg; ` +
      `MP4 ${(run.outputBytes / 2 ** 20).toFixed(1)} MiB`,
  );
}
const pool = speeds[0] ?? { wall: 0, idle: 0 };
console.log(
  `target ≥ ${TARGET}× real time with the pool's settings: ${pool.wall >= TARGET ? "met" : "NOT met"} on ` +
    `this machine now (${pool.wall.toFixed(1)}× wall clock, load ${load}); ` +
    `${pool.idle >= TARGET ? "met" : "not met"} by CPU time with the CPUs idle (${pool.idle.toFixed(1)}×). ` +
    `Bench took ${elapsed().toFixed(0)} s.`,
);
Deno.exit(pool.wall >= TARGET ? 0 : 1);
