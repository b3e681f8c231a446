// The relay of one session channel once both ends are open: data both ways with backpressure from the socket
// and the recorder, the recording (a terminal as asciicast; a channel without one within its stream limit,
// counted and hashed), SFTP/SCP taps, window changes, signals, EOF, exit status and close.
import { flushBatchedWrites } from "./write_batching.ts";
import { Buffer } from "node:buffer";
import type { Readable, Writable } from "node:stream";
import type { ProxySession, Recording, Relay } from "./session.ts";
import type { ClientChannel, ServerChannel } from "./ssh2_types.ts";
import type { ChannelInfo } from "./metadata.ts";
import { ScpTap } from "./scp_tap.ts";
import { SftpTap } from "./sftp_tap.ts";
import { type StreamName, StreamTap } from "./stream_tap.ts";
import type { ContentSink, Transfer } from "./transfer_tap.ts";
import { ChannelFileKeeper } from "./file_keep.ts";
import { loginBanner } from "./texts.ts";

export interface ChannelEnd {
  /** the arguments of ssh2's "exit" event (status, or null + signal, core dumped, message) */
  exit: unknown[] | null;
  closed: boolean;
}

export function watchEnd(bch: ClientChannel): ChannelEnd {
  const end: ChannelEnd = { exit: null, closed: false };
  bch.once("exit", (...args: unknown[]) => end.exit = args);
  bch.once("close", () => end.closed = true);
  return end;
}

/** Tells the client why its request failed and closes the channel (if the client has not already). */
/** Copies `src` to `dst`, honouring backpressure from both `dst` and an optional gate (the recorder). */
function pump(
  src: Readable,
  dst: Writable,
  tap: (d: Buffer) => void,
  gate: () => Promise<void> | null,
): void {
  src.on("data", (d: Buffer) => {
    const ok = dst.write(d);
    // a small chunk (keys, their echo, a prompt) goes out to the socket before the recorder's work; bulk data
    // stays batched per task (write_batching.ts), where the syscalls count and latency does not
    if (d.length < 4096) flushBatchedWrites();
    tap(d);
    const g = gate();
    if (!ok || g) {
      src.pause();
      const waits: Promise<unknown>[] = [];
      if (!ok) waits.push(new Promise((r) => dst.once("drain", r)));
      if (g) waits.push(g);
      void Promise.all(waits).then(() => src.resume());
    }
  });
}

export class ChannelRelay implements Relay {
  #closed = false;
  #tapIn: ((d: Buffer) => void) | null = null;
  #tapOut: ((d: Buffer) => void) | null = null;
  #taps: { finish(): void } | null = null;

  constructor(
    private readonly s: ProxySession,
    private readonly ch: ServerChannel,
    private readonly bch: ClientChannel,
    private readonly info: ChannelInfo,
    private readonly rec: Recording | null,
    /** a terminal the proxy may write into (warnings); never for exec/scp/sftp data streams */
    private readonly terminal: boolean,
    private readonly banner: boolean,
    private readonly end: ChannelEnd,
    /** a channel without a terminal: what its recording keeps, and the byte counts and hashes */
    private readonly streams: StreamTap | null = null,
    /** scp/SFTP where the server's group keeps files */
    private readonly keeper: ChannelFileKeeper | null = null,
  ) {}

  /** Records one chunk of a direction: as the terminal showed it, or (no terminal) within the stream limit. */
  #record(name: StreamName, d: Buffer): void {
    const w = this.rec?.writer;
    if (!w) return;
    if (!this.streams) return name === "stdin" ? w.input(d) : w.output(d);
    const { keep, crossed, edge } = this.streams.pass(name, d);
    if (edge === "binary_start") w.marker(`${name}: binary data, counted and hashed, not kept`);
    else if (edge === "binary_end") w.marker(`${name}: text again`);
    if (keep > 0) {
      const kept = keep === d.length ? d : d.subarray(0, keep);
      if (name === "stdin") {
        w.input(kept);
        w.output(kept); // nothing echoes it without a terminal: the replay shows it where it was typed
      } else w.output(kept);
    }
    if (crossed) {
      w.marker(
        `${name}: the recording keeps ${
          keep === 0 ? "no more" : "only the start"
        }; further bytes are counted and hashed`,
      );
    }
  }

  tapSftp(): void {
    const tap = new SftpTap((t, sink) => this.#transfer(t, sink), this.keeper?.open);
    this.#tapIn = (d) => tap.fromClient.push(d);
    this.#tapOut = (d) => tap.fromServer.push(d);
    this.#taps = tap;
  }

  tapScp(direction: "upload" | "download", path: string, targetIsDir: boolean): void {
    const tap = new ScpTap(
      direction,
      path,
      (t, sink) => this.#transfer(t, sink),
      targetIsDir,
      this.keeper?.open,
    );
    if (direction === "upload") this.#tapIn = (d) => tap.push(d);
    else this.#tapOut = (d) => tap.push(d);
    this.#taps = tap;
  }

  #transfer(t: Transfer, sink?: ContentSink | null): void {
    const keeper = this.keeper;
    if (!keeper || !sink) return this.s.meta.transfer(t);
    // the session's end waits for the kept copy, so its metadata says whether the file was kept
    const done: Promise<void> = keeper.finish(t, sink)
      .then((x) => this.s.meta.transfer(x))
      .catch((e) => {
        this.s.rt.deps.log.error("cannot keep a transferred file", {
          ref: this.s.id,
          error: (e as Error).message,
        });
        this.s.meta.transfer({ ...t, kept: false, not_kept: "error" });
      })
      .finally(() => this.s.keeping.delete(done));
    this.s.keeping.add(done);
  }

  #safeTap(which: "in" | "out", d: Buffer): void {
    const tap = which === "in" ? this.#tapIn : this.#tapOut;
    if (!tap) return;
    try {
      tap(d);
    } catch (e) {
      // a stream we cannot follow is still relayed; only the file list stops
      this.s.meta.note(`transfer log stopped: ${(e as Error).message}`);
      this.#tapIn = this.#tapOut = null;
      this.#taps = null;
    }
  }

  run(): void {
    const { s, ch, bch, rec } = this;
    s.relays.add(this);
    if (this.banner) {
      const id = s.identity;
      const text = loginBanner({
        user: id.user.name,
        login: id.login,
        server: id.server.name,
        until: s.decision.validUntil,
        ref: s.id,
      });
      ch.write(text);
      rec?.writer.output(text);
    }
    const gate = () => (rec?.writer.full ? rec.writer.drained() : this.keeper?.gate() ?? null);
    pump(bch, ch, (d) => {
      this.#record("stdout", d);
      this.#safeTap("out", d);
    }, gate);
    pump(bch.stderr, ch.stderr, (d) => this.#record("stderr", d), gate);
    pump(ch, bch, (d) => {
      this.#record("stdin", d);
      this.#safeTap("in", d);
    }, gate);
    ch.on("end", () => bch.end());
    // closed before the relay ran (the channel ended while its recording was being opened): finish now
    if (this.end.closed) queueMicrotask(() => this.#finish());
    else bch.on("close", () => this.#finish());
    ch.on("close", () => {
      this.#closed = true;
      try {
        bch.close();
      } catch (_e) {
        // already closed
      }
      this.#finish();
    });
    ch.on(
      "error",
      (e: Error) => s.rt.deps.log.debug("client channel error", { ref: s.id, error: e.message }),
    );
    bch.on(
      "error",
      (e: Error) => s.rt.deps.log.debug("backend channel error", { ref: s.id, error: e.message }),
    );
  }

  #done = false;
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.s.relays.delete(this);
    this.#taps?.finish();
    const exit = this.end.exit;
    let status: ChannelInfo["exit"] = undefined;
    if (!this.#closed) {
      try {
        if (exit && typeof exit[0] === "number") {
          this.ch.exit(exit[0]);
          status = { status: exit[0] };
        } else if (exit && typeof exit[1] === "string") {
          this.ch.exit(exit[1], Boolean(exit[2]), String(exit[3] ?? ""));
          status = { signal: exit[1] };
        }
      } catch (e) {
        this.s.rt.deps.log.debug("cannot relay exit status", { error: (e as Error).message });
      }
      this.ch.end();
    }
    this.s.meta.endChannel(this.info, status, this.streams?.summary());
  }

  resize(info: { cols: number; rows: number; width: number; height: number }): void {
    this.bch.setWindow(info.rows, info.cols, info.height, info.width);
    this.rec?.writer.resize(info.cols, info.rows);
  }

  signal(name: string): void {
    try {
      this.bch.signal(name);
    } catch (_e) {
      // not a signal name OpenSSH knows: ignored, as sshd does
    }
  }

  notify(text: string): void {
    if (!this.terminal || this.#done) return;
    this.ch.write(text);
    this.rec?.writer.output(text);
  }

  close(): void {
    if (this.#done) return;
    try {
      this.bch.close();
    } catch (_e) {
      // already closed
    }
    this.#finish();
  }
}
