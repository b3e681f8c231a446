// Runs a standard tool (ssh-keygen, openssl, sha256sum …) to completion, optionally feeding stdin.
export interface ToolResult {
  code: number;
  out: string;
}

export async function runTool(
  cmd: string,
  args: string[],
  opts: { stdin?: Uint8Array; cwd?: string } = {},
): Promise<ToolResult> {
  const p = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = p.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const o = await p.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}
