// In-browser RDP replay benchmark: the console's player (web/static/rdp_player.js) in Debian's Chromium on
// the synthetic 10-minute 1920×1080 session of bench/convert (generated into work/ when missing), served by
// a bare HTTP server with the same three reads the console routes make (raw by ranges, the index built by
// recorder/rdp_replay/index_store.ts, keyframes) but no login or database. Measures: the index build (cold),
// time to first frame (cold and with the index cached), seek latency p50/p95 to random points (the player's
// own timing: seek asked → frame drawn), and the browser's CPU time over 10 s of 1× playback.
//
//   deno run -A bench/rdp_replay/bench_seek.ts [--minutes 10] [--seeks 40]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { readKeyframe, recordingIndex } from "../../recorder/rdp_replay/index_store.ts";
import { fileResponse } from "../../web/range.ts";
import { benchSession, loadAverage, WORK } from "./bench_session.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { minutes: { type: "string", default: "10" }, seeks: { type: "string", default: "40" } },
});
const minutes = Number(values.minutes), seeks = Number(values.seeks);
const input = await benchSession(minutes);
const size = (await Deno.stat(input)).size;
console.log(`recording: ${input} (${(size / 2 ** 20).toFixed(0)} MiB); load average ${await loadAverage()}`);
const indexDir = join(WORK, "rdp_index");
await Deno.remove(indexDir, { recursive: true }).catch(() => {});

const PLAYER = await Deno.readFile(new URL("../../web/static/rdp_player.js", import.meta.url));
const PAGE = `<!doctype html><html><body>
<div class="rdp-player" id="p" data-base="/r" data-state="loading"><canvas></canvas>
<button data-act="play">Play</button><input type="range" data-act="seek" min="0" max="0">
<select data-act="speed"><option value="1">1</option><option value="16">16</option></select>
<input type="checkbox" data-act="idle" checked><span data-time></span><p data-status></p></div>
<script src="/rdp_player.js"></script></body></html>`;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const u = new URL(req.url);
  if (u.pathname === "/") return new Response(PAGE, { headers: { "Content-Type": "text/html" } });
  if (u.pathname === "/rdp_player.js") {
    return new Response(PLAYER, { headers: { "Content-Type": "text/javascript" } });
  }
  if (u.pathname === "/r/raw") {
    return await fileResponse(input, "application/octet-stream", req.headers.get("Range") ?? undefined);
  }
  const index = await recordingIndex(input, 1, indexDir);
  if (u.pathname === "/r/index") return Response.json(index);
  const m = /^\/r\/keyframes\/(\d+)$/.exec(u.pathname);
  if (m) return new Response(await readKeyframe(indexDir, index, Number(m[1])));
  return new Response("not found", { status: 404 });
});
const base = `http://127.0.0.1:${server.addr.port}`;

const profile = await Deno.makeTempDir({ prefix: "jh-bench-chromium-" });
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(600_000);
  const firstFrame = async () => {
    const t = performance.now();
    await page.goto(base);
    await page.waitForSelector('#p[data-state="paused"]');
    return performance.now() - t;
  };
  const cold = await firstFrame();
  const index = await recordingIndex(input, 1, indexDir);
  const warm = await firstFrame();
  const kfBytes = index.keyframes.reduce((n, k) => n + k.length, 0);
  console.log(
    `index: built in ${(index.buildMs / 1000).toFixed(1)} s, ${index.keyframes.length} keyframes, ` +
      `${(kfBytes / 2 ** 20).toFixed(1)} MiB; first frame ${cold.toFixed(0)} ms cold (with the build), ` +
      `${warm.toFixed(0)} ms with the index cached`,
  );

  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const times: number[] = [];
  for (let i = 0; i < seeks; i++) {
    const t = Math.round(rand() * index.durationMs);
    const took = await page.evaluate(async (t) => {
      const el = document.getElementById("p")!;
      const input = el.querySelector("[data-act=seek]") as HTMLInputElement;
      input.value = String(t);
      input.dispatchEvent(new Event("change"));
      for (;;) {
        await new Promise((r) => setTimeout(r, 5));
        if (el.dataset.state === "paused" && el.dataset.t === String(t)) return Number(el.dataset.seekMs);
        if (el.dataset.state === "error" || el.dataset.state === "stopped") throw new Error(el.textContent!);
      }
    }, t);
    times.push(took);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(
    `seek (${seeks} random points): p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${times.at(-1)} ms`,
  );

  // browser CPU over 10 s of 1× playback (the Chromium processes of this profile, from /proc)
  const cpu = async () => { // utime + stime of every Chromium process, in seconds (100 ticks/s)
    const pids = new TextDecoder().decode(
      (await new Deno.Command("pgrep", { args: ["-f", profile] }).output()).stdout,
    ).split("\n").filter(Boolean);
    let ticks = 0;
    for (const pid of pids) {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (f.length > 13) ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks / 100;
  };
  await page.evaluate((t) => {
    const input = document.querySelector("#p [data-act=seek]") as HTMLInputElement;
    input.value = String(t);
    input.dispatchEvent(new Event("change"));
  }, Math.round(index.durationMs / 3));
  await page.waitForSelector('#p[data-state="paused"]');
  const c0 = await cpu();
  await page.click("#p [data-act=play]");
  await new Promise((r) => setTimeout(r, 10_000));
  const c1 = await cpu();
  console.log(`1× playback: Chromium CPU ${(((c1 - c0) / 10) * 100).toFixed(0)} % of one core over 10 s`);
} finally {
  await ctx.close();
  await server.shutdown();
  await Deno.remove(profile, { recursive: true }).catch(() => {});
}
