// One measured conversion (run by bench_convert.ts in its own process, so its peak RSS is the
// converter's alone): renderRecordingToMp4 on the input, with ffmpeg's CPU and peak RSS sampled from
// /proc while it runs. Prints one JSON line.
//   deno run -A bench/convert/convert_child.ts INPUT OUTPUT PRESET rgba|i420 TIMEOUT_S
import { renderRecordingToMp4 } from "../../recorder/convert/render_to_mp4.ts";

const [input, output, preset, pixelFormat, timeoutS] = Deno.args;
if (pixelFormat !== "rgba" && pixelFormat !== "i420") throw new Error(`pixel format ${pixelFormat}`);
const TICK = 100; // /proc/*/stat counts CPU in clock ticks (USER_HZ)

interface ProcSample {
  cpuS: number;
  /** CPU of waited-for children (ffmpeg, once it has exited) */
  childrenCpuS: number;
  hwmKb: number;
}

async function procSample(pid: number | "self"): Promise<ProcSample | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuS = (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
    const childrenCpuS = (Number(f[13]) + Number(f[14])) / TICK; // cutime + cstime
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return { cpuS, childrenCpuS, hwmKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) };
  } catch (_e) {
    return null; // exited
  }
}

async function ffmpegChildren(): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
    const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
    if (m && m[1] === "ffmpeg" && Number(m[2]) === Deno.pid) out.push(Number(e.name));
  }
  return out;
}

const ffmpeg = new Map<number, ProcSample>();
let sampling = true;
const sampler = (async () => {
  // the sampler runs inside the measured process: look for the child only until it is found, since a
  // scan of /proc costs CPU-seconds over a long run on a busy machine
  let pids: number[] = [];
  while (sampling) {
    if (!pids.some((pid) => ffmpeg.has(pid))) pids = await ffmpegChildren();
    for (const pid of pids) {
      const s = await procSample(pid);
      // an exiting process loses its memory lines first: keep the highest peak seen
      if (s) ffmpeg.set(pid, { ...s, hwmKb: Math.max(s.hwmKb, ffmpeg.get(pid)?.hwmKb ?? 0) });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
})();

const ac = new AbortController();
const timer = setTimeout(() => ac.abort(), Number(timeoutS) * 1000);
const t0 = performance.now();
let progress = { percent: 0, frames: 0 };
let error: string | null = null;
let result = null;
try {
  result = await renderRecordingToMp4({
    input,
    output,
    preset,
    pixelFormat,
    signal: ac.signal,
    progressIntervalMs: 500,
    onProgress: (p) => (progress = { percent: p.percent, frames: p.frames }),
  });
} catch (e) {
  error = (e as Error).message;
} finally {
  clearTimeout(timer);
}
const wallS = (performance.now() - t0) / 1000;
sampling = false;
await sampler;
const self = (await procSample("self"))!;
const ff = [...ffmpeg.values()];
console.log(JSON.stringify({
  preset,
  pixelFormat,
  wallS,
  result,
  error,
  timedOut: ac.signal.aborted,
  progress,
  denoCpuS: self.cpuS,
  denoPeakRssKb: self.hwmKb,
  // exact once ffmpeg has been waited for; the samples miss its last moments
  ffmpegCpuS: Math.max(self.childrenCpuS, ff.reduce((n, s) => n + s.cpuS, 0)),
  ffmpegPeakRssKb: Math.max(0, ...ff.map((s) => s.hwmKb)),
  outputBytes: await Deno.stat(output).then((s) => s.size, () => 0),
}));
