// Test support: the sessions/recordings rows the RDP proxy would have written for a recording file.
import type { Sql } from "../../../db/client.ts";
import { addRecording } from "../../../db/recordings.ts";

export async function rdpRecordingRow(
  sql: Sql,
  path: string,
  opts: { sessionId?: string; user?: string; server?: string } = {},
): Promise<{ sessionId: string; sessionRowId: number; recordingId: number }> {
  const sid = opts.sessionId ?? crypto.randomUUID();
  const [s] = await sql<{ id: number }[]>`INSERT INTO sessions (session_id, user_name, server_name, protocol,
      source_ip, node_id, is_active, ended_at, termination_reason, duration_seconds, recording_path)
    VALUES (${sid}, ${opts.user ?? "alice"}, ${opts.server ?? "win1"}, 'rdp', '192.0.2.7', 'test-node', false,
      now(), 'normal', 60, ${path}) RETURNING id`;
  const size = await Deno.stat(path).then((s) => s.size, () => 0);
  const recordingId = await addRecording(sql, {
    sessionRowId: s.id,
    kind: "rdp",
    channel: "connection-0",
    path,
  });
  await sql`UPDATE recordings SET size = ${size}, ended_at = now() WHERE id = ${recordingId}`;
  return { sessionId: sid, sessionRowId: s.id, recordingId };
}
