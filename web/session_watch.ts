// Long-lived responses (the live terminal's SSE stream) must not outlive the console session that opened
// them. Each one gets an AbortSignal that fires when the session ends: at once for a logout or password
// change/reset handled by this process, and within `everyMs` for anything else (idle or absolute expiry,
// a logout on another appliance sharing the database, a deleted or disabled console user).

export type StreamEndReason = "logged_out" | "expired" | "revoked" | "check_failed";

interface Entry {
  tokenHash: string;
  userId: number;
  ctrl: AbortController;
}

/** The open long-lived responses of one console app (no module globals: one registry per createApp). */
export class OpenStreams {
  #open = new Set<Entry>();

  get size(): number {
    return this.#open.size;
  }

  add(e: Entry): () => void {
    this.#open.add(e);
    return () => this.#open.delete(e);
  }

  /** Ends the streams of one console session (logout). */
  endSession(tokenHash: string, reason: StreamEndReason): void {
    for (const e of this.#open) if (e.tokenHash === tokenHash) e.ctrl.abort(reason);
  }

  /** Ends every stream of a console user except those of `keepTokenHash` (password change or reset). */
  endUser(userId: number, reason: StreamEndReason, keepTokenHash?: string): void {
    for (const e of this.#open) {
      if (e.userId === userId && e.tokenHash !== keepTokenHash) e.ctrl.abort(reason);
    }
  }
}

export interface SessionWatch {
  signal: AbortSignal;
  /** why the stream was ended, once `signal` has fired */
  reason(): StreamEndReason | null;
  /** call when the response ends for its own reasons: clears the timer and the registration */
  stop(): void;
}

/**
 * Watches one console session for a long-lived response. `stillValid` re-reads the session without
 * extending its idle clock; a failing check ends the stream (fail closed).
 */
export function watchSession(opts: {
  session: { tokenHash: string; userId: number };
  streams: OpenStreams;
  everyMs: number;
  stillValid: () => Promise<boolean>;
  onCheckError?: (e: unknown) => void;
}): SessionWatch {
  const ctrl = new AbortController();
  const unregister = opts.streams.add({ ...opts.session, ctrl });
  let checking = false, stopped = false;
  const timer = setInterval(async () => {
    if (checking || stopped) return;
    checking = true;
    try {
      const ok = await opts.stillValid();
      if (!ok && !stopped) ctrl.abort("expired");
    } catch (e) {
      if (!stopped) {
        opts.onCheckError?.(e);
        ctrl.abort("check_failed");
      }
    } finally {
      checking = false;
    }
  }, Math.max(10, opts.everyMs));
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    unregister();
  };
  ctrl.signal.addEventListener("abort", stop, { once: true });
  return {
    signal: ctrl.signal,
    reason: () => ctrl.signal.aborted ? ctrl.signal.reason as StreamEndReason : null,
    stop,
  };
}
