// The asciicast recordings of one session: one file per interactive channel under
// <recordings>/YYYY/MM/DD/<session>-<n>.cast (directories 0700, files 0600; `.cast.age` with
// recording_encryption = age), each with its recordings row.
import { join } from "node:path";
import { addRecording, finishRecording } from "../../db/recordings.ts";
import { AsciicastWriter, type RecordingError } from "../../recorder/asciicast.ts";
import { SessionDbError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export interface Recording {
  id: number;
  path: string;
  writer: AsciicastWriter;
}

export class SessionRecordings {
  #list: Recording[] = [];
  #n = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly sessionId: string,
    private readonly title: string,
    /** a recording that cannot be written ends the session (fail closed) */
    private readonly onError: (e: RecordingError) => void,
  ) {}

  get first(): string | null {
    return this.#list[0]?.path ?? null;
  }

  async start(
    rowId: number,
    channel: string,
    pty: { cols: number; rows: number; term: string },
    /**
     * the channel has no terminal: its output is shown as a terminal would (recorder/asciicast.ts crlf); with
     * a terminal, input typed while it does not echo is masked (recorder/echo_mask.ts)
     */
    noTerminal = false,
  ): Promise<Recording> {
    const d = new Date();
    const dir = join(
      this.rt.deps.recordingsDir,
      String(d.getUTCFullYear()),
      String(d.getUTCMonth() + 1).padStart(2, "0"),
      String(d.getUTCDate()).padStart(2, "0"),
    );
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const writer = await AsciicastWriter.create(join(dir, `${this.sessionId}-${++this.#n}.cast`), {
      width: pty.cols,
      height: pty.rows,
      timestamp: d.getTime() / 1000,
      title: noTerminal ? `${this.title} (${channel}, no terminal)` : this.title,
      env: { TERM: pty.term || "xterm", SHELL: "/bin/sh" },
    }, {
      crlf: noTerminal,
      maskUnechoed: noTerminal ? undefined : {},
      encryption: this.rt.deps.recordingEncryption,
    });
    const path = writer.path; // as stored: + ".age" when encrypted
    writer.onError = this.onError;
    try {
      const id = await addRecording(this.rt.deps.sql, {
        sessionRowId: rowId,
        kind: "asciicast",
        channel,
        path,
      });
      const rec = { id, path, writer };
      this.#list.push(rec);
      return rec;
    } catch (e) {
      await writer.close();
      await Deno.remove(path).catch(() => {});
      throw new SessionDbError(`cannot register the recording: ${(e as Error).message}`);
    }
  }

  /** Flushes and closes every file; their rows get size and end, then a seal (retried during an outage). */
  async closeAll(endedAt: Date): Promise<{ size: number | null }> {
    if (this.#list.length === 0) return { size: null };
    let size = 0;
    for (const rec of this.#list) {
      const n = await rec.writer.close();
      size += n;
      await this.rt.retry.run("recording end", async () => {
        await finishRecording(this.rt.deps.sql, rec.id, n, endedAt);
        // sealed once its row says it ended (the manifest carries the end time)
        await this.rt.seal?.(rec.id, this.sessionId);
      });
    }
    return { size };
  }
}
