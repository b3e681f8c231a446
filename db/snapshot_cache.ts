// The policy snapshot a proxy decides with: loaded at start, rebuilt when `policy_changed` is notified
// (debounced) and every `refreshMs` as a safety net. When the database cannot be read the cache reports
// unhealthy and get() returns null after `maxStaleMs`, so proxies fail closed.
import type { Sql } from "./client.ts";
import { listenPolicyChanged, type Unlisten } from "./notify.ts";
import { loadSnapshot } from "./snapshot_load.ts";
import type { Snapshot } from "../policy/mod.ts";

export interface SnapshotCache {
  /** the current snapshot, or null when none is known to be fresh (fail closed) */
  get(): Snapshot | null;
  /** resolves after the first successful load */
  ready: Promise<void>;
  /** rebuild now (e.g. right after a change this process made) */
  refresh(): Promise<void>;
  /** called after every successful rebuild (e.g. to re-check live sessions against revocations) */
  onChange(fn: (s: Snapshot) => void): void;
  healthy(): boolean;
  close(): Promise<void>;
}

export interface SnapshotCacheOptions {
  debounceMs?: number;
  refreshMs?: number;
  /** how long a snapshot may be used while the database is unreachable */
  maxStaleMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
}

export function createSnapshotCache(sql: Sql, o: SnapshotCacheOptions = {}): SnapshotCache {
  const now = o.now ?? Date.now;
  const maxStale = o.maxStaleMs ?? 30_000;
  let snap: Snapshot | null = null;
  let loadedAt = 0;
  let ok = false;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let unlisten: Unlisten | null = null;
  const listeners: ((s: Snapshot) => void)[] = [];
  const first = Promise.withResolvers<void>();

  const rebuild = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          // a pooled connection killed while idle fails once; a second attempt gets a fresh one
          const s = await loadSnapshot(sql).catch(async () => {
            await new Promise((r) => setTimeout(r, 50));
            return await loadSnapshot(sql);
          });
          snap = s;
          loadedAt = now();
          ok = true;
          first.resolve();
          for (const l of listeners) l(s);
        } catch (e) {
          ok = false;
          o.log?.("policy snapshot reload failed", { error: (e as Error).message });
        }
      } while (again && !closed);
    })().finally(() => (running = null));
    return running;
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void rebuild(), o.debounceMs ?? 100);
  };
  const timer = setInterval(() => void rebuild(), o.refreshMs ?? 15_000);
  const listening = listenPolicyChanged(sql, schedule).then((u) => {
    if (closed) return u.unlisten();
    unlisten = u;
  }).catch((e) => o.log?.("cannot LISTEN policy_changed", { error: (e as Error).message }));
  void rebuild();

  return {
    get() {
      if (!snap) return null;
      if (!ok && now() - loadedAt > maxStale) return null;
      return snap;
    },
    ready: first.promise,
    refresh: rebuild,
    onChange: (fn) => void listeners.push(fn),
    healthy: () => ok,
    async close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(timer);
      await listening;
      await unlisten?.unlisten().catch(() => {});
      await running;
    },
  };
}
