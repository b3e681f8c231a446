// A TCP socket as a plain JS Duplex that can be held (not read from the kernel) on demand.
//
// Why: Deno's node:tls reads its underlying socket natively and keeps reading after the TLSSocket is
// paused, so a paused leg buffers whatever the peer sends without bound (measured: ~100 MB/s of RSS
// growth against a flooding peer). Layered over this Duplex, TLS can only get bytes we pass up, and
// hold() pauses the TCP socket itself, so the kernel window closes and the peer is pushed back.
import type net from "node:net";
import { Duplex } from "node:stream";

export class HeldSocket extends Duplex {
  #held = false;

  constructor(readonly raw: net.Socket) {
    super({ allowHalfOpen: false });
    raw.on("data", (chunk: Uint8Array) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on("end", () => this.push(null));
    raw.on("error", (e: Error) => this.destroy(e));
    raw.on("close", () => this.destroy());
  }

  /** Stop reading from the peer until release(). */
  hold(): void {
    this.#held = true;
    this.raw.pause();
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.raw.resume();
  }

  override _read(): void {
    if (!this.#held) this.raw.resume();
  }

  override _write(chunk: Uint8Array, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    // the callback fires once the kernel took the bytes: that is what gives TLS writes backpressure
    this.raw.write(chunk, (e?: Error | null) => cb(e ?? null));
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.raw.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }

  setNoDelay(noDelay = true): this {
    this.raw.setNoDelay(noDelay);
    return this;
  }
}
