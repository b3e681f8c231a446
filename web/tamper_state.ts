// What the console shows about tamper evidence: the audit chain's verified state (recomputed at most
// every CACHE_MS, as verifying reads the whole chain) and each recording's seal.
import type { Sql } from "../db/client.ts";
import { loadSigningKey, type PublicSigningKey } from "../core/signing_key.ts";
import { type ChainReport, verifyAuditChain } from "../db/audit_verify.ts";
import { recordingForSeal } from "../db/recording_seals.ts";
import { type RecordingVerdict, verifyRecording } from "../recorder/seal.ts";

const CACHE_MS = 30_000;

export type ChainState = { report: ChainReport; checkedAt: Date } | { error: string };

export interface TamperState {
  chain(now: Date): Promise<ChainState>;
  recording(id: number | string): Promise<RecordingVerdict | { error: string }>;
}

export function createTamperState(sql: Sql, dataDir: string | undefined): TamperState {
  let keys: Promise<PublicSigningKey[]> | null = null;
  const trusted = () => {
    if (!dataDir) return Promise.reject(new Error("no data directory, so no signing key"));
    keys ??= loadSigningKey(dataDir).then((k) => [k.publicKey]).catch((e) => {
      keys = null;
      throw e;
    });
    return keys;
  };
  let cached: { at: number; state: Promise<ChainState> } | null = null;
  return {
    chain(now) {
      if (cached && now.getTime() - cached.at < CACHE_MS) return cached.state;
      const state = (async (): Promise<ChainState> => {
        try {
          return { report: await verifyAuditChain(sql, { trusted: await trusted() }), checkedAt: now };
        } catch (e) {
          return { error: (e as Error).message };
        }
      })();
      cached = { at: now.getTime(), state };
      return state;
    },
    async recording(id) {
      try {
        const rec = await recordingForSeal(sql, id);
        if (!rec) return { error: "no such recording" };
        return await verifyRecording(sql, await trusted(), rec);
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
  };
}
