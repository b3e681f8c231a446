// What the console shows about tamper evidence: the audit chain's verified state (verifying reads the
// whole chain: ~2.4 s per 100 000 rows, so it is recomputed in the background, see below) and each
// recording's seal.
import type { Sql } from "../db/client.ts";
import { loadTrustedKeys, type PublicSigningKey } from "../core/signing_key.ts";
import { type ChainReport, verifyAuditChain } from "../db/audit_verify.ts";
import { recordingForSeal } from "../db/recording_seals.ts";
import { type RecordingVerdict, verifyRecording } from "../recorder/seal.ts";

const MIN_CACHE_MS = 30_000;
const PAGE_HASH_MAX_BYTES = 512 * 2 ** 20;

export type ChainState = { report: ChainReport; checkedAt: Date } | { error: string };

export interface TamperState {
  chain(now: Date): Promise<ChainState>;
  recording(id: number | string): Promise<RecordingVerdict | { error: string }>;
}

export function createTamperState(
  sql: Sql,
  dataDir: string | undefined,
  trustedSigners: string | null = null,
): TamperState {
  let keys: Promise<PublicSigningKey[]> | null = null;
  const trusted = () => {
    if (!dataDir) return Promise.reject(new Error("no data directory, so no signing key"));
    keys ??= loadTrustedKeys(dataDir, [trustedSigners]).catch((e) => {
      keys = null;
      throw e;
    });
    return keys;
  };
  // stale-while-revalidate: a page gets the last result at once while a newer one is computed; results
  // are kept for at least MIN_CACHE_MS and ten times as long as verifying took (a large chain)
  let cached: { at: number; ttl: number; state: ChainState } | null = null;
  let refreshing: Promise<ChainState> | null = null;
  const refresh = (now: Date) =>
    refreshing ??= (async (): Promise<ChainState> => {
      const started = performance.now();
      let state: ChainState;
      try {
        state = { report: await verifyAuditChain(sql, { trusted: await trusted() }), checkedAt: now };
      } catch (e) {
        state = { error: (e as Error).message };
      }
      cached = { at: now.getTime(), ttl: Math.max(MIN_CACHE_MS, 10 * (performance.now() - started)), state };
      refreshing = null;
      return state;
    })();
  return {
    chain(now) {
      if (!cached) return refresh(now);
      if (now.getTime() - cached.at >= cached.ttl) void refresh(now);
      return Promise.resolve(cached.state);
    },
    async recording(id) {
      try {
        const rec = await recordingForSeal(sql, id);
        if (!rec) return { error: "no such recording" };
        // hashing a very large file on every page view would stall the page: the CLI does it
        if (Number(rec.size) > PAGE_HASH_MAX_BYTES) {
          return { error: `large file: check it with jumphost recordings verify ${rec.id}` };
        }
        return await verifyRecording(sql, await trusted(), rec);
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
  };
}
