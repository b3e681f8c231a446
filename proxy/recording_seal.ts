// The one step every recording goes through when it closes, whatever its kind (SSH asciicast, RDP file,
// and kinds added later): seal it with a signed manifest (recorder/seal.ts) and note the seal in the
// audit chain. A file problem is logged and audited (the recording stays unsealed, which verification
// shows); a database error is thrown, for the caller's retry.
import type { SigningKey } from "../core/signing_key.ts";
import type { Sql } from "../db/client.ts";
import type { AuditEvent } from "../db/audit_events.ts";
import { SealError, sealRecording } from "../recorder/seal.ts";

export type RecordingSealer = (recordingId: number | string, sessionId: string) => Promise<void>;

export function createRecordingSealer(o: {
  sql: Sql;
  nodeId: string;
  key: () => Promise<SigningKey>;
  audit: (e: AuditEvent) => void | Promise<void>;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}): RecordingSealer {
  return async (id, sessionId) => {
    let key: SigningKey;
    try {
      key = await o.key();
    } catch (e) {
      return fail(id, sessionId, `no signing key: ${(e as Error).message}`);
    }
    let m;
    try {
      m = await sealRecording(o.sql, key, o.nodeId, id);
    } catch (e) {
      // a file problem will not go away by retrying (a database error will)
      if (e instanceof SealError) return fail(id, sessionId, e.message);
      throw e;
    }
    if (!m) return;
    const { manifest, fileError } = m;
    if (fileError) {
      o.log("the recording's manifest file was not written", { recording: id, error: fileError });
    }
    await o.audit({
      actor: "system",
      action: "recording.sealed",
      target: sessionId,
      success: true,
      details: {
        recording: Number(id),
        file: manifest.file,
        size: manifest.size,
        sha256: manifest.sha256,
        ...(fileError ? { manifest_file_error: fileError } : {}),
      },
    });
  };

  async function fail(id: number | string, sessionId: string, error: string): Promise<void> {
    o.log("cannot seal the recording", { recording: id, error });
    await o.audit({
      actor: "system",
      action: "recording.seal_failed",
      target: sessionId,
      success: false,
      details: { recording: Number(id), error },
    });
  }
}
