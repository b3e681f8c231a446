// recording_seals (migration 013): the signed manifest of each closed recording, and what verifying and
// exporting recordings read about them.
import type { Sql } from "./client.ts";

export interface RecordingForSeal {
  id: string;
  path: string;
  kind: string;
  channel: string | null;
  size: string;
  started_at: Date;
  ended_at: Date | null;
  session_id: string;
  session_row: string;
}

const SELECT_RECORDING = (sql: Sql) =>
  sql`SELECT r.id::text AS id, r.path, r.kind, r.channel, r.size::text AS size, r.started_at, r.ended_at,
             s.session_id, s.id::text AS session_row
      FROM recordings r JOIN sessions s ON s.id = r.session_id`;

export async function recordingForSeal(sql: Sql, id: string | number): Promise<RecordingForSeal | null> {
  const [r] = await sql<RecordingForSeal[]>`${SELECT_RECORDING(sql)} WHERE r.id = ${String(id)}::bigint`;
  return r ?? null;
}

/** Every recording (or those of one session), oldest first. */
export function recordingsForVerify(sql: Sql, sessionId?: string): Promise<RecordingForSeal[]> {
  return sql<RecordingForSeal[]>`${SELECT_RECORDING(sql)}
    ${sessionId ? sql`WHERE s.session_id = ${sessionId}` : sql``} ORDER BY r.id`;
}

export interface RecordingSeal {
  recording_id: string;
  manifest: string;
  signature: Uint8Array;
  sshsig: string;
  public_key: string;
  sealed_at: Date;
}

export async function addSeal(sql: Sql, s: Omit<RecordingSeal, "sealed_at">): Promise<void> {
  await sql`INSERT INTO recording_seals (recording_id, manifest, signature, sshsig, public_key)
    VALUES (${s.recording_id}::bigint, ${s.manifest}, ${s.signature}, ${s.sshsig}, ${s.public_key})
    ON CONFLICT (recording_id) DO NOTHING`;
}

export async function sealOf(sql: Sql, recordingId: string | number): Promise<RecordingSeal | null> {
  const [r] = await sql<RecordingSeal[]>`
    SELECT recording_id::text AS recording_id, manifest, signature, sshsig, public_key, sealed_at
    FROM recording_seals WHERE recording_id = ${String(recordingId)}::bigint`;
  return r ? { ...r, signature: new Uint8Array(r.signature) } : null;
}

/** The recording.sealed audit row of a recording (the chain's copy of its hash), or null. */
export async function sealAuditOf(
  sql: Sql,
  recordingId: string | number,
): Promise<{ id: string; sha256: string | null; size: number | null } | null> {
  const [r] = await sql<{ id: string; sha256: string | null; size: number | null }[]>`
    SELECT id::text AS id, details->>'sha256' AS sha256, (details->>'size')::bigint AS size FROM audit_log
    WHERE action = 'recording.sealed' AND details->>'recording' = ${String(recordingId)}
    ORDER BY audit_log.id LIMIT 1`;
  return r ? { ...r, size: r.size === null ? null : Number(r.size) } : null;
}

/**
 * Recordings of this node that ended without a seal since sealing exists (migration 013) and whose sealing
 * has not failed already: what the sweep in app/audit_checkpoints.ts seals (a kind of recording that
 * does not pass proxy/recording_seal.ts, a seal lost in an outage).
 */
export async function unsealedRecordings(
  sql: Sql,
  nodeId: string,
  limit = 100,
): Promise<{ id: string; session_id: string }[]> {
  return await sql<{ id: string; session_id: string }[]>`
    SELECT r.id::text AS id, s.session_id FROM recordings r JOIN sessions s ON s.id = r.session_id
    -- a minute after it ended: the proxy that closed it seals it itself in the meantime
    WHERE r.ended_at < now() - interval '1 minute' AND s.node_id = ${nodeId}
      AND r.ended_at >= (SELECT applied_at FROM schema_migrations WHERE version = 13)
      AND NOT EXISTS (SELECT 1 FROM recording_seals m WHERE m.recording_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'recording.seal_failed'
                      AND a.details->>'recording' = r.id::text)
    ORDER BY r.id LIMIT ${limit}`;
}
