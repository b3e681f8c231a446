// What a seek index costs, and where to pay it: on the synthetic 1920×1080 session (bench_session.ts), the
// CPU of each part of the work, side by side in one run (rounds interleaved), per minute of recorded session:
//
//   frame    read the file and split it into records (the baseline every pass below includes)
//   record   frame + the proxy's recording writer appending every record to a new file: what the proxy
//            already pays per session for recording
//   render   frame + the renderer applying every record, no keyframes: what an index built inline, as the
//            proxy writes, would add to the relaying thread for each live session
//   snapshot frame + render + a keyframe every 5 s of busy screen (snapshot, encode, gzip level 1), in memory
//   index    recordingIndex() as the proxy's index worker runs it when the recording closes (the above,
//            plus the .kf and .json files)
//
// Writes its table into RESULTS.md between the index-cost markers.
//
//   deno run -A bench/rdp_replay/bench_index.ts [--minutes 10] [--rounds 2]
import process from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { openRecordingWriter, RecordType } from "../../recorder/rdp_file.ts";
import { IndexBuilder } from "../../recorder/rdp_replay/index_builder.ts";
import { recordingIndex } from "../../recorder/rdp_replay/index_store.ts";
import { encodeKeyframe } from "../../recorder/rdp_replay/keyframe.ts";
import { RecordStream, type StreamRecord } from "../../recorder/rdp_replay/record_stream.ts";
import type { RecordingHeader } from "../../recorder/rdp_file_format.ts";
import { benchSession, loadAverage, WORK } from "./bench_session.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { minutes: { type: "string", default: "10" }, rounds: { type: "string", default: "2" } },
});
const minutes = Number(values.minutes), rounds = Number(values.rounds);
const input = await benchSession(minutes);
const size = (await Deno.stat(input)).size;
const loadBefore = await loadAverage();
console.log(`recording: ${input} (${(size / 2 ** 20).toFixed(0)} MiB); load average ${loadBefore}`);
const scratch = await Deno.makeTempDir({ dir: WORK, prefix: "index-cost-" });

/** Every record of the recording, in order, read in 1 MiB chunks (payloads valid during the callback). */
async function eachRecord(fn: (rec: StreamRecord, header: RecordingHeader) => void | Promise<void>) {
  const f = await Deno.open(input);
  const stream = new RecordStream();
  const buf = new Uint8Array(1 << 20);
  try {
    for (let n; (n = await f.read(buf)) !== null;) {
      stream.push(buf.subarray(0, n));
      for (let rec; (rec = stream.next());) await fn(rec, stream.header!);
    }
  } finally {
    f.close();
  }
}

let durationMs = 0, keyframes = 0, kfBytes = 0;
const phases: Record<string, () => Promise<void>> = {
  async frame() {
    await eachRecord((rec) => void (durationMs = rec.offsetMillis));
  },
  async record() {
    let writer: Awaited<ReturnType<typeof openRecordingWriter>> | null = null;
    const path = join(scratch, `copy-${crypto.randomUUID()}.rdprec`);
    await eachRecord(async (rec, header) => {
      writer ??= await openRecordingWriter(path, header, { clock: () => 0, maxPendingBytes: 64 << 20 });
      if (rec.type === RecordType.END) return;
      if (!writer.append(rec.type, rec.payload, rec.offsetMillis)) {
        throw new Error(`writer: ${writer.failed}`);
      }
      // the relay hands the writer a few records per socket read; let it drain as it would
      while (writer.pendingBytes > 4 << 20) await new Promise((r) => setTimeout(r, 1));
    });
    await writer!.close();
    await Deno.remove(path);
  },
  async render() {
    let b: IndexBuilder | null = null;
    await eachRecord((rec, header) => {
      b ??= new IndexBuilder(header, { intervalMs: Infinity, maxBytes: Infinity });
      b.feed(rec);
    });
  },
  async snapshot() {
    let b: IndexBuilder | null = null;
    [keyframes, kfBytes] = [0, 0];
    await eachRecord((rec, header) => {
      b ??= new IndexBuilder(header);
      const k = b.feed(rec);
      if (k) {
        keyframes++;
        kfBytes += gzipSync(encodeKeyframe(k.snapshot), { level: 1 }).length;
      }
    });
  },
  async index() {
    const dir = join(scratch, `index-${crypto.randomUUID()}`);
    await recordingIndex(input, 1, dir);
    await Deno.remove(dir, { recursive: true });
  },
};

const cpu: Record<string, number[]> = {}, wall: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(phases)) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await run();
    const c = process.cpuUsage(c0);
    (cpu[name] ??= []).push((c.user + c.system) / 1e6);
    (wall[name] ??= []).push((performance.now() - t0) / 1000);
    console.log(
      `round ${r + 1} ${name}: ${wall[name].at(-1)!.toFixed(2)} s wall, ${
        cpu[name].at(-1)!.toFixed(2)
      } s CPU`,
    );
  }
}
await Deno.remove(scratch, { recursive: true });
const loadAfter = await loadAverage();

const sessionMin = durationMs / 60_000;
const best = (name: string) => Math.min(...cpu[name]);
const perMin = (s: number) => s / sessionMin;
const core = (s: number) => `${((perMin(s) / 60) * 100).toFixed(1)} %`;
const commit = new TextDecoder().decode(
  (await new Deno.Command("git", { args: ["rev-parse", "--short", "HEAD"], stdout: "piped" }).output())
    .stdout,
).trim();
const row = (what: string, s: number) =>
  `| ${what} | ${s.toFixed(2)} | ${perMin(s).toFixed(3)} | ${core(s)} |`;
const derived = {
  writer: best("record") - best("frame"),
  renderer: best("render") - best("frame"),
  keyframes: best("snapshot") - best("render"),
};
const lines = [
  `Commit ${commit}, ${minutes}-minute 1920×1080 session (${(size / 2 ** 20).toFixed(0)} MiB, ` +
  `${(durationMs / 1000).toFixed(0)} s), ${rounds} rounds interleaved, least CPU of the rounds; ` +
  `load average ${loadBefore} before, ${loadAfter} after (2 vCPUs shared).`,
  "",
  "| pass (CPU, whole process) | CPU s | CPU s per session minute | share of one core, live |",
  "| ------------------------- | ----- | ------------------------ | ----------------------- |",
  ...Object.keys(phases).map((n) => row(n, best(n))),
  row("= recording writer (record − frame)", derived.writer),
  row("= renderer (render − frame)", derived.renderer),
  row(`= ${keyframes} keyframes (snapshot − render)`, derived.keyframes),
  "",
  `Per keyframe: ${((derived.keyframes / keyframes) * 1000).toFixed(0)} ms of CPU (copy of the 1080p ` +
  `framebuffer, encode, gzip), ${(kfBytes / keyframes / 2 ** 20).toFixed(2)} MiB compressed. ` +
  `An index built inline would cost each live session the renderer and the keyframes: ` +
  `${((derived.renderer + derived.keyframes) / derived.writer).toFixed(1)}× what its recording writer costs.`,
];
console.log(lines.join("\n"));

const resultsPath = new URL("./RESULTS.md", import.meta.url).pathname;
const results = await Deno.readTextFile(resultsPath);
const [begin, end] = ["<!-- index-cost:begin -->", "<!-- index-cost:end -->"];
const i = results.indexOf(begin), j = results.indexOf(end);
if (i < 0 || j < i) throw new Error(`RESULTS.md has no ${begin} … ${end} section`);
await Deno.writeTextFile(
  resultsPath,
  `${results.slice(0, i + begin.length)}\n${lines.join("\n")}\n${results.slice(j)}`,
);
await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", resultsPath] }).output();
