// Runs the real `jumphost` program (main.ts under deno) as a subprocess.
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function jh(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { JUMPHOST_LOG_LEVEL: "warn", ...opts.env },
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A CLI bound to one database URL; throws with the output when a command that should succeed fails. */
export function cliFor(url: string, extraEnv: Record<string, string> = {}) {
  const env = { JUMPHOST_DATABASE_URL: url, ...extraEnv };
  const run = (args: string[], stdin?: string) => jh(args, { env, stdin });
  const ok = async (args: string[], stdin?: string) => {
    const r = await run(args, stdin);
    if (r.code !== 0) throw new Error(`jumphost ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const json = async <T = unknown>(args: string[]) => JSON.parse(await ok([...args, "--json"])) as T;
  return { run, ok, json };
}
