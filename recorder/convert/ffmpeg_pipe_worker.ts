// Writer thread for FfmpegPipe (see ffmpeg_pipe.ts): spawns ffmpeg, writes what it is sent to its stdin
// in order, says when each write is done, and reports the exit status with stderr's tail.
/// <reference lib="deno.worker" />
import type { FromPipeWorker, ToPipeWorker } from "./ffmpeg_pipe_messages.ts";

let child: Deno.ChildProcess | null = null;
let stdin: WritableStreamDefaultWriter<Uint8Array> | null = null;
let queue: Promise<void> = Promise.resolve();
let failed: string | null = null;
const post = (m: FromPipeWorker) => self.postMessage(m);

self.onmessage = (e: MessageEvent<ToPipeWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "spawn":
      return spawn(m.command, m.args);
    case "write":
      queue = queue.then(async () => {
        if (failed === null) {
          try {
            await stdin!.write(m.head);
            if (m.body) await stdin!.write(m.body);
          } catch (e) {
            failed = `cannot write to ffmpeg: ${(e as Error).message}`;
          }
        }
        post({ type: "written", id: m.id, error: failed });
      });
      return;
    case "close":
      queue = queue.then(() => stdin?.close()).catch(() => {}); // a failed write already said why
      return;
    case "kill":
      try {
        child?.kill("SIGKILL");
      } catch (_e) {
        // already exited
      }
      return;
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
};

function spawn(command: string, args: string[]): void {
  try {
    child = new Deno.Command(command, { args, stdin: "piped", stdout: "null", stderr: "piped" }).spawn();
  } catch (e) {
    post({ type: "spawned", error: `cannot start ${command}: ${(e as Error).message}` });
    return;
  }
  stdin = child.stdin.getWriter();
  post({ type: "spawned", error: null });
  const stderr = collectTail(child.stderr, 16 << 10);
  child.status.then(async (s) => {
    post({ type: "exit", success: s.success, code: s.code, stderr: await stderr });
  });
}

/** Read a stream to the end, keeping only its last `limit` bytes as text. */
async function collectTail(stream: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  let tail = new Uint8Array(0);
  for await (const chunk of stream) {
    const next = new Uint8Array(Math.min(limit, tail.length + chunk.length));
    const keep = next.length - Math.min(chunk.length, next.length);
    next.set(tail.subarray(tail.length - keep), 0);
    next.set(chunk.subarray(chunk.length - (next.length - keep)), keep);
    tail = next;
  }
  return new TextDecoder().decode(tail).trim();
}
