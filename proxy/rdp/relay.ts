// Relays the decrypted RDP streams in both directions, frame by frame. Each direction has its own
// PduStream; every whole frame goes through a hook (the MITM state machine) and its result is written
// to the other leg. Backpressure: when a leg's write buffer is full the other leg is paused until it
// drains, so a slow client never makes the proxy buffer a fast server's output.
import { Duplex } from "node:stream";
import { type Frame, PduStream, RdpParseError } from "./pdu/mod.ts";
import { FrameRefused } from "./errors.ts";

export type RelayEndReason =
  /** A leg closed (FIN or reset). */
  | "closed"
  /** A frame was malformed or broke the protocol state. */
  | "protocol_error"
  /** disconnect() was called. */
  | "disconnected"
  /** A hook refused a frame (FrameRefused, in `error`): its final PDUs were sent and both legs closed. */
  | "refused";

export interface RelayEnd {
  reason: RelayEndReason;
  /** Which leg closed first or sent the bad frame. */
  side: "client" | "server" | null;
  error: Error | null;
}

/** One side of the relay: the (decrypted) stream, and how to stop reading from the peer for real. */
export interface RelayLeg {
  stream: Duplex;
  /** Stop reading from the peer (TCP level); default: stream.pause(). */
  hold?(): void;
  release?(): void;
}

export interface RelayHooks {
  clientFrame(f: Frame): Uint8Array;
  serverFrame(f: Frame): Uint8Array;
}

export interface RelayOptions {
  /** How long disconnect() lets final PDUs flush before destroying the sockets. */
  graceMs?: number;
  /**
   * Recording backpressure: while `behind()`, neither leg is read, so a burst waits for the disk
   * instead of overflowing the recording queue; reading resumes when `caughtUp()` resolves.
   */
  recording?: RecordingBackpressure;
}

export interface RecordingBackpressure {
  behind(): boolean;
  caughtUp(): Promise<void>;
}

export class Relay {
  readonly bytes = { fromClient: 0, fromServer: 0 };
  readonly done: Promise<RelayEnd>;
  /** Both legs closed (after done; bounded by the grace period, then they are destroyed). */
  readonly closed: Promise<void>;
  #resolve!: (e: RelayEnd) => void;
  #resolveClosed!: () => void;
  #ended: RelayEnd | null = null;
  #graceMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closedLegs = new Set<Duplex>();
  #recording: RecordingBackpressure | undefined;
  /** both legs are held until the recording caught up */
  #heldForRecording = false;

  private readonly client: Duplex;
  private readonly server: Duplex;
  #legs: Map<Duplex, RelayLeg>;

  constructor(
    clientLeg: RelayLeg | Duplex,
    serverLeg: RelayLeg | Duplex,
    hooks: RelayHooks,
    opts: RelayOptions = {},
  ) {
    const leg = (l: RelayLeg | Duplex): RelayLeg => (l instanceof Duplex ? { stream: l } : l);
    const [cl, sl] = [leg(clientLeg), leg(serverLeg)];
    this.client = cl.stream;
    this.server = sl.stream;
    this.#legs = new Map([[cl.stream, cl], [sl.stream, sl]]);
    const client = this.client;
    const server = this.server;
    this.#graceMs = opts.graceMs ?? 1000;
    this.#recording = opts.recording;
    this.done = new Promise((r) => (this.#resolve = r));
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#pipe("client", client, server, new PduStream(), (f) => hooks.clientFrame(f));
    this.#pipe("server", server, client, new PduStream(), (f) => hooks.serverFrame(f));
    // a leg paused by an earlier step (NLA reads its TSRequests, then pauses) flows from here on
    for (const s of [client, server]) if (s.readableFlowing === false) s.resume();
    // a leg that closed before the relay existed will never emit 'close' again
    for (const [side, s] of [["client", client], ["server", server]] as const) {
      if (!s.destroyed) continue;
      this.#finish({ reason: "closed", side, error: null });
      this.#legClosed(s);
    }
  }

  get ended(): boolean {
    return this.#ended !== null;
  }

  /**
   * Send final PDUs (e.g. Set Error Info + DPUm to the client, DPUm to the server), close both legs
   * gracefully and destroy them after the grace period.
   */
  disconnect(toClient: Uint8Array[], toServer: Uint8Array[]): void {
    this.#closeWith({ reason: "disconnected", side: null, error: null }, toClient, toServer);
  }

  #closeWith(end: RelayEnd, toClient: Uint8Array[], toServer: Uint8Array[]): void {
    if (this.#ended) return;
    this.#finish(end);
    for (const [sock, out] of [[this.client, toClient], [this.server, toServer]] as const) {
      try {
        for (const b of out) sock.write(b);
        sock.end();
      } catch (_e) {
        // already broken: destroyed below
      }
    }
    this.#destroyLater();
  }

  #pipe(
    side: "client" | "server",
    src: Duplex,
    dst: Duplex,
    stream: PduStream,
    hook: (f: Frame) => Uint8Array,
  ): void {
    src.on("data", (chunk: Uint8Array) => {
      if (this.#ended) return;
      if (side === "client") this.bytes.fromClient += chunk.length;
      else this.bytes.fromServer += chunk.length;
      let out: Uint8Array[];
      try {
        out = stream.push(chunk).map(hook);
      } catch (e) {
        if (e instanceof FrameRefused) {
          // nothing of this chunk is forwarded; the refusal's own PDUs go out, then both legs close
          this.#closeWith({ reason: "refused", side, error: e }, e.toClient, e.toServer);
          return;
        }
        const error = e instanceof Error ? e : new Error(String(e));
        if (!(e instanceof RdpParseError)) error.message = `internal: ${error.message}`;
        this.#finish({ reason: "protocol_error", side, error });
        this.#destroy();
        return;
      }
      let flowing = true;
      for (const run of contiguousRuns(out)) flowing = dst.write(run) && flowing;
      if (!flowing) {
        this.#hold(src);
        dst.once("drain", () => {
          if (!this.#heldForRecording) this.#release(src);
        });
      }
      if (this.#recording?.behind()) this.#pauseForRecording(this.#recording);
    });
    src.on("error", (e: Error) => {
      this.#finish({ reason: "closed", side, error: e });
      this.#destroy();
    });
    src.on("end", () => {
      this.#finish({ reason: "closed", side, error: null });
      dst.end(); // let what is queued for the other side flush, then FIN
      this.#destroyLater();
    });
    src.on("close", () => {
      this.#finish({ reason: "closed", side, error: null });
      this.#legClosed(src);
    });
  }

  #hold(s: Duplex): void {
    s.pause();
    this.#legs.get(s)?.hold?.();
  }

  #release(s: Duplex): void {
    this.#legs.get(s)?.release?.();
    s.resume();
  }

  /** Stop reading both legs until the recording has caught up. */
  #pauseForRecording(recording: RecordingBackpressure): void {
    if (this.#heldForRecording) return;
    this.#heldForRecording = true;
    this.#hold(this.client);
    this.#hold(this.server);
    const wait = (): void => {
      recording.caughtUp().then(() => {
        if (!this.#heldForRecording) return; // ended meanwhile
        // not below the mark after all (never expected): look again shortly, never in a tight loop
        if (!this.#ended && recording.behind()) return void setTimeout(wait, 5);
        this.#resumeAfterRecording();
      });
    };
    wait();
  }

  #resumeAfterRecording(): void {
    this.#heldForRecording = false;
    if (this.#ended) return;
    // a leg also paused for socket backpressure resumes on its own 'drain'
    if (this.client.writableNeedDrain !== true) this.#release(this.server);
    if (this.server.writableNeedDrain !== true) this.#release(this.client);
  }

  #finish(e: RelayEnd): void {
    if (this.#ended) return;
    this.#ended = e;
    this.#heldForRecording = false;
    this.#resolve(e);
  }

  #legClosed(leg: Duplex): void {
    this.#closedLegs.add(leg);
    if (this.#closedLegs.size === 2) {
      clearTimeout(this.#timer);
      this.#resolveClosed();
    } else this.#destroyLater();
  }

  /** Destroy both legs after the grace period unless both closed by then. */
  #destroyLater(): void {
    if (this.#timer !== undefined || this.#closedLegs.size === 2) return;
    this.#timer = setTimeout(() => this.#destroy(), this.#graceMs);
  }

  #destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }
}

/**
 * The frames to send, merged where they lie back to back in one buffer (frames passed through
 * unchanged): one write each, without copying the bytes.
 */
export function contiguousRuns(parts: Uint8Array[]): Uint8Array[] {
  const runs: Uint8Array[] = [];
  let run: Uint8Array | null = null;
  for (const p of parts) {
    if (run && p.buffer === run.buffer && p.byteOffset === run.byteOffset + run.length) {
      run = new Uint8Array(run.buffer, run.byteOffset, run.length + p.length);
    } else {
      if (run) runs.push(run);
      run = p;
    }
  }
  if (run) runs.push(run);
  return runs;
}
