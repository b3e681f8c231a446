// asciinema 2.x opens /dev/tty even for `cat`/`play`, so run it under script(1) to give it one.

/** Runs `asciinema <cmd> <path>` and returns its stdout; throws with stderr on failure. */
export async function asciinema(cmd: "cat" | "play", path: string): Promise<string> {
  const quoted = `'${path.replaceAll("'", "'\\''")}'`;
  const inner = cmd === "play" ? `asciinema play -s 1000 -i 0.01 ${quoted}` : `asciinema cat ${quoted}`;
  const out = await new Deno.Command("script", {
    args: ["-qec", inner, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `asciinema ${cmd} ${path} failed (${out.code}): ${text}${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}
