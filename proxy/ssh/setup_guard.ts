// Connections before authentication ("in setup"): how many one listener and one source address may hold,
// and how long the key exchange and the login may take. Pure bookkeeping; server.ts applies it to sockets.
// Without these an anonymous client could open thousands of connections, each costing a key exchange it
// picks and holding memory and timers for the whole login grace.

export interface SetupLimits {
  /** connections in setup one listener accepts (more are closed at accept) */
  perListener: number;
  /**
   * further slots only for sources inside some user's source CIDR: a flood from addresses nobody logs in
   * from fills `perListener` and no more, so the people who can log in still get in
   */
  knownReserve: number;
  /** connections in setup from one source address, over all listeners */
  perSource: number;
  /** from accept to the end of the first key exchange */
  kexTimeoutMs: number;
  /** from accept to a successful login (OpenSSH's LoginGraceTime) */
  loginGraceMs: number;
}

export const SETUP_DEFAULTS: SetupLimits = {
  perListener: 256,
  knownReserve: 64,
  perSource: 32,
  kexTimeoutMs: 20_000,
  loginGraceMs: 60_000,
};

export type SetupVerdict = "ok" | "listener_full" | "source_full";

export class SetupCounter {
  #listeners = new Map<string, number>();
  #sources = new Map<string, number>();

  constructor(
    private readonly limits: Pick<SetupLimits, "perListener" | "perSource"> & Partial<SetupLimits>,
  ) {}

  /**
   * Counts a new connection in, or says which cap it hits (and counts nothing). `known`: the source is in
   * some user's source CIDR, and may use the reserve.
   */
  admit(listener: string, source: string, known = false): SetupVerdict {
    const l = this.#listeners.get(listener) ?? 0;
    const s = this.#sources.get(source) ?? 0;
    if (l >= this.limits.perListener + (known ? this.limits.knownReserve ?? 0 : 0)) return "listener_full";
    if (s >= this.limits.perSource) return "source_full";
    this.#listeners.set(listener, l + 1);
    this.#sources.set(source, s + 1);
    return "ok";
  }

  /** The connection logged in or closed: its slots are free again. Call once per admitted connection. */
  release(listener: string, source: string): void {
    dec(this.#listeners, listener);
    dec(this.#sources, source);
  }

  inSetup(listener?: string): number {
    if (listener !== undefined) return this.#listeners.get(listener) ?? 0;
    let n = 0;
    for (const v of this.#listeners.values()) n += v;
    return n;
  }
}

function dec(m: Map<string, number>, k: string): void {
  const v = (m.get(k) ?? 0) - 1;
  if (v <= 0) m.delete(k);
  else m.set(k, v);
}
