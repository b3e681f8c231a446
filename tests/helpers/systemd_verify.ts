// `systemd-analyze verify` for a unit file. It exits 0 even for unknown keys or values it cannot parse
// (it only warns), so the warnings are what count; and a deliberately broken copy must draw a warning,
// or the check would pass without checking anything (e.g. a stub systemd-analyze).
import { join } from "node:path";

/** Lines about the machine (no systemd running here), not about the unit. */
const NOISE = [/Failed to connect to bus/, /System has not been booted with systemd/, /^\s*$/];

async function analyze(path: string): Promise<{ code: number; lines: string[] }> {
  const out = await new Deno.Command("systemd-analyze", {
    args: ["verify", path],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, lines: text.split("\n").filter((l) => !NOISE.some((re) => re.test(l))) };
}

/** The problems systemd-analyze finds in the unit ([] when clean), or null when it is not installed. */
export async function verifyUnit(path: string): Promise<string[] | null> {
  const which = await new Deno.Command("sh", { args: ["-c", "command -v systemd-analyze"], stdout: "null" })
    .output();
  if (!which.success) return null;
  const dir = await Deno.makeTempDir({ prefix: "jh-unit-" });
  try {
    const broken = join(dir, "jumphost-broken.service");
    await Deno.writeTextFile(broken, (await Deno.readTextFile(path)) + "\n[Service]\nRestart=sometimes\n");
    const b = await analyze(broken);
    if (b.lines.length === 0) throw new Error("systemd-analyze verify found nothing wrong in a broken unit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const r = await analyze(path);
  return r.code === 0 ? r.lines : [`exit code ${r.code}`, ...r.lines];
}
