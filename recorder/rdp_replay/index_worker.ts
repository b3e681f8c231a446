// Worker: builds the seek index of one finished RDP recording (index_store.ts), off the thread that relays
// sessions. Started by index_prebuild.ts, one recording per worker.
/// <reference lib="deno.worker" />
import { indexDirOf, recordingIndex } from "./index_store.ts";
import { recordingKeys } from "../../core/recording_identity.ts";

export interface IndexJob {
  path: string;
  recordingId: number;
  dataDir: string;
}

export type IndexReply = { ok: true; buildMs: number; keyframes: number } | { ok: false; error: string };

self.onmessage = async (e: MessageEvent<IndexJob>) => {
  const { path, recordingId, dataDir } = e.data;
  let reply: IndexReply;
  try {
    const index = await recordingIndex(path, recordingId, indexDirOf(dataDir), {}, recordingKeys(dataDir));
    reply = { ok: true, buildMs: index.buildMs, keyframes: index.keyframes.length };
  } catch (err) {
    reply = { ok: false, error: (err as Error).message };
  }
  self.postMessage(reply);
};
