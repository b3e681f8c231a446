// Time for the proxies (SSH and RDP), passed in so tests can run a grant's expiry in seconds.

export interface Clock {
  /** milliseconds since the epoch, as the policy engine sees them */
  now(): number;
  /** runs `fn` once when now() reaches `atMs`; returns a cancel function */
  setTimer(atMs: number, fn: () => void): () => void;
}

// setTimeout holds at most 2^31-1 ms (~24.8 days); longer waits are chained
const MAX_DELAY = 2_147_483_647;

function chainedTimer(delayOf: () => number, fn: () => void): () => void {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = () => {
    const d = delayOf();
    if (d <= 0) {
      handle = setTimeout(() => !cancelled && fn(), 0);
      return;
    }
    handle = setTimeout(() => {
      if (cancelled) return;
      if (d > MAX_DELAY) arm();
      else fn();
    }, Math.min(d, MAX_DELAY));
  };
  arm();
  return () => {
    cancelled = true;
    clearTimeout(handle);
  };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, fn) {
    return chainedTimer(() => atMs - Date.now(), fn);
  },
};

/**
 * A clock running `factor` times faster than real time from `startMs` on (tests and demos): with
 * factor 60, a grant ending in 6 minutes ends after 6 real seconds, with its 5- and 1-minute warnings.
 */
export function scaledClock(factor: number, startMs = Date.now()): Clock {
  if (!(factor > 0)) throw new RangeError("clock factor must be positive");
  const realStart = Date.now();
  const now = () => startMs + (Date.now() - realStart) * factor;
  return {
    now,
    setTimer(atMs, fn) {
      return chainedTimer(() => Math.ceil((atMs - now()) / factor), fn);
    },
  };
}
