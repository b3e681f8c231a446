// The one step every recording goes through when it closes, whatever its kind (SSH asciicast, RDP file,
// and kinds added later): seal it with a signed manifest (recorder/seal.ts) and note the seal in the
// audit chain. A file problem is logged and audited (the recording stays unsealed, which verification
// shows); a database error is thrown, for the caller's retry.
import type { SigningKey } from "../core/signing_key.ts";
import type { Sql } from "../db/client.ts";
import type { AuditEvent } from "../db/audit_events.ts";
import { sealRecording } from "../recorder/seal.ts";

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
      // a file that cannot be read will not become readable by retrying
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
        return fail(id, sessionId, (e as Error).message);
      }
      throw e;
    }
    if (!m) return;
    await o.audit({
      actor: "system",
      action: "recording.sealed",
      target: sessionId,
      success: true,
      details: { recording: Number(id), file: m.file, size: m.size, sha256: m.sha256 },
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
