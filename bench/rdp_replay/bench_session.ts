// The recording the replay benchmarks read: the synthetic 1920×1080 session of bench/convert (typing,
// output, scrolling, a dragged dialog, mouse moves; 64×64 planar tiles), taken from bench/convert/work/ or
// generated once into bench/rdp_replay/work/.
import { join } from "node:path";
import { writeSyntheticSession } from "../../recorder/convert/testdata/synth_session.ts";

export const WORK = new URL("./work/", import.meta.url).pathname;

export async function benchSession(minutes: number): Promise<string> {
  await Deno.mkdir(WORK, { recursive: true });
  const name = `session-v1-${minutes}min-1920x1080-seed1.rdprec`;
  const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
  const shared = join(new URL("../convert/work/", import.meta.url).pathname, name);
  if (await exists(shared)) return shared;
  const input = join(WORK, name);
  if (await exists(input)) return input;
  const t = performance.now();
  await writeSyntheticSession(`${input}.tmp`, { width: 1920, height: 1080, seconds: minutes * 60, seed: 1 });
  await Deno.rename(`${input}.tmp`, input);
  console.log(`generated ${input} in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  return input;
}

/** "1.31 1.25 1.20": the load average now (the machine is shared; figures are compared side by side). */
export async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
}
