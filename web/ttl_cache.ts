// One value recomputed at most every `ttlMs` (by the injected clock); concurrent callers share one load.
export function ttlCache<T>(
  ttlMs: number,
  now: () => Date,
  load: (at: Date) => Promise<T>,
): () => Promise<T> {
  let value: { at: number; v: Promise<T> } | null = null;
  return () => {
    const t = now().getTime();
    if (value === null || t - value.at >= ttlMs || t < value.at) {
      const v = load(new Date(t));
      value = { at: t, v };
      // a failed load is not kept: the next call tries again
      v.catch(() => {
        if (value?.v === v) value = null;
      });
    }
    return value.v;
  };
}
