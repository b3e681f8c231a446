// Relays the decrypted RDP streams in both directions, frame by frame. Each direction has its own
// PduStream; every whole frame goes through a hook (the MITM state machine) and its result is written
// to the other leg. Backpressure: when a leg's write buffer is full the other leg is paused until it
// drains, so a slow client never makes the proxy buffer a fast server's output.
import type { Duplex } from "node:stream";
import { type Frame, PduStream, RdpParseError } from "./pdu/mod.ts";

export type RelayEndReason =
  /** A leg closed (FIN or reset). */
  | "closed"
  /** A frame was malformed or broke the protocol state. */
  | "protocol_error"
  /** disconnect() was called. */
  | "disconnected";

export interface RelayEnd {
  reason: RelayEndReason;
  /** Which leg closed first or sent the bad frame. */
  side: "client" | "server" | null;
  error: Error | null;
}

export interface RelayHooks {
  clientFrame(f: Frame): Uint8Array;
  serverFrame(f: Frame): Uint8Array;
}

export interface RelayOptions {
  /** How long disconnect() lets final PDUs flush before destroying the sockets. */
  graceMs?: number;
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
  #closedLegs = 0;

  constructor(
    private readonly client: Duplex,
    private readonly server: Duplex,
    hooks: RelayHooks,
    opts: RelayOptions = {},
  ) {
    this.#graceMs = opts.graceMs ?? 1000;
    this.done = new Promise((r) => (this.#resolve = r));
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#pipe("client", client, server, new PduStream(), (f) => hooks.clientFrame(f));
    this.#pipe("server", server, client, new PduStream(), (f) => hooks.serverFrame(f));
  }

  get ended(): boolean {
    return this.#ended !== null;
  }

  /**
   * Send final PDUs (e.g. Set Error Info + DPUm to the client, DPUm to the server), close both legs
   * gracefully and destroy them after the grace period.
   */
  disconnect(toClient: Uint8Array[], toServer: Uint8Array[]): void {
    if (this.#ended) return;
    this.#finish({ reason: "disconnected", side: null, error: null });
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
        const error = e instanceof Error ? e : new Error(String(e));
        if (!(e instanceof RdpParseError)) error.message = `internal: ${error.message}`;
        this.#finish({ reason: "protocol_error", side, error });
        this.#destroy();
        return;
      }
      if (out.length === 0) return;
      const ok = dst.write(out.length === 1 ? out[0] : join(out));
      if (!ok) {
        src.pause();
        dst.once("drain", () => src.resume());
      }
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
      if (++this.#closedLegs === 2) {
        clearTimeout(this.#timer);
        this.#resolveClosed();
      } else this.#destroyLater();
    });
  }

  #finish(e: RelayEnd): void {
    if (this.#ended) return;
    this.#ended = e;
    this.#resolve(e);
  }

  /** Destroy both legs after the grace period unless both closed by then. */
  #destroyLater(): void {
    if (this.#timer !== undefined || this.#closedLegs === 2) return;
    this.#timer = setTimeout(() => this.#destroy(), this.#graceMs);
  }

  #destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }
}

function join(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
