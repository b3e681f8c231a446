// A child process whose stderr/stdout are collected continuously (so it never blocks on a full pipe),
// with waitFor(regex) on what it printed.
import { spawnPeer } from "./peer.ts";

export interface Spawned {
  child: Deno.ChildProcess;
  output(): string;
  waitFor(re: RegExp, ms: number): Promise<string>;
  /** SIGTERM (then SIGKILL after `graceMs`), returns the exit status */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

export function spawnCollected(
  cmd: string,
  args: string[],
  opts: Omit<Deno.CommandOptions, "args"> = {},
): Spawned {
  const child = spawnPeer(cmd, { ...opts, args, stdin: "null", stdout: "piped", stderr: "piped" });
  let text = "";
  const waiters = new Set<() => void>();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      text += dec.decode(chunk, { stream: true });
      for (const w of waiters) w();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await pumps;
    for (const w of waiters) w();
    return s;
  });
  return {
    child,
    output: () => text,
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(text)) done(() => resolve(text));
          else if (exited) {
            done(() => reject(new Error(`process exited before ${re}:\n${text.slice(-3000)}`)));
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`timeout waiting for ${re}:\n${text.slice(-3000)}`))),
          ms,
        );
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 15_000) {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch (_e) {
          // already gone
        }
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch (_e) {
          // already gone
        }
      }, graceMs);
      const s = await status;
      clearTimeout(timer);
      return s;
    },
  };
}
