// recordings: one row per recorded channel (an SSH asciicast per interactive channel, an RDP file per session).
import type { Sql } from "./client.ts";

export async function addRecording(
  sql: Sql,
  r: { sessionRowId: number; kind: "asciicast" | "rdp"; channel: string | null; path: string },
): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO recordings (session_id, kind, channel, path) VALUES (${r.sessionRowId}, ${r.kind}, ${r.channel}, ${r.path})
    RETURNING id`;
  return row.id;
}

export async function finishRecording(sql: Sql, id: number, size: number, endedAt: Date): Promise<void> {
  await sql`UPDATE recordings SET size = ${size}, ended_at = ${endedAt} WHERE id = ${id}`;
}
