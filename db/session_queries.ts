// Read-side queries over sessions and recordings for the console (history, detail, live lists).
import type { Sql } from "./client.ts";

export interface SessionRow {
  id: number;
  session_id: string;
  user_id: number | null;
  server_id: number | null;
  user_name: string;
  server_name: string;
  protocol: "ssh" | "rdp";
  source_ip: string;
  proxy_ip: string | null;
  backend_ip: string | null;
  backend_port: number | null;
  ssh_login: string | null;
  subsystem: string | null;
  ssh_agent_used: boolean;
  started_at: Date;
  ended_at: Date | null;
  duration_seconds: number | null;
  is_active: boolean;
  termination_reason: string | null;
  termination_detail: string | null;
  recording_path: string | null;
  recording_size: number | null;
  policy_id: number | null;
  node_id: string;
  metadata: Record<string, unknown>;
}

export type SessionStatus =
  | "active"
  | "ended"
  | "normal"
  | "error"
  | "timeout"
  | "killed"
  | "expired"
  | "revoked"
  | "shutdown"
  | "node_lost";
export const SESSION_STATUSES: readonly SessionStatus[] = [
  "active",
  "ended",
  "normal",
  "error",
  "timeout",
  "killed",
  "expired",
  "revoked",
  "shutdown",
  "node_lost",
];

export interface SessionFilter {
  protocol?: "ssh" | "rdp";
  /** active, ended (any reason), or one termination reason */
  status?: SessionStatus;
  user?: string;
  server?: string;
  since?: Date;
  until?: Date;
  /** substring of session id, user, server, login or source address */
  text?: string;
  /** keyset pagination: rows after this sessions.id in (started_at DESC, id DESC) order */
  afterId?: number;
  limit?: number;
}

const COLUMNS = (sql: Sql) =>
  sql`id, session_id, user_id, server_id, user_name, server_name, protocol, host(source_ip) AS source_ip,
    host(proxy_ip) AS proxy_ip, backend_ip, backend_port, ssh_login, subsystem, ssh_agent_used, started_at,
    ended_at, duration_seconds, is_active, termination_reason, termination_detail, recording_path,
    recording_size, policy_id, node_id, metadata`;

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}

export function listSessions(sql: Sql, f: SessionFilter = {}): Promise<SessionRow[]> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 1000);
  const status = f.status;
  const like = f.text ? `%${escapeLike(f.text)}%` : null;
  return sql<SessionRow[]>`
    SELECT ${COLUMNS(sql)} FROM sessions
    WHERE true
      ${f.protocol ? sql`AND protocol = ${f.protocol}` : sql``}
      ${status === "active" ? sql`AND is_active` : sql``}
      ${status === "ended" ? sql`AND NOT is_active` : sql``}
      ${status && status !== "active" && status !== "ended" ? sql`AND termination_reason = ${status}` : sql``}
      ${f.user ? sql`AND user_name = ${f.user}` : sql``}
      ${f.server ? sql`AND server_name = ${f.server}` : sql``}
      ${f.since ? sql`AND started_at >= ${f.since}` : sql``}
      ${f.until ? sql`AND started_at < ${f.until}` : sql``}
      ${
    like
      ? sql`AND session_search_text(session_id, user_name, server_name, ssh_login, source_ip) ILIKE ${like}`
      : sql``
  }
      ${
    f.afterId !== undefined
      ? sql`AND (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ${f.afterId})`
      : sql``
  }
    ORDER BY started_at DESC, id DESC
    LIMIT ${limit}`;
}

export async function findSession(sql: Sql, sessionId: string): Promise<SessionRow | null> {
  const [r] = await sql<SessionRow[]>`SELECT ${COLUMNS(sql)} FROM sessions WHERE session_id = ${sessionId}`;
  return r ?? null;
}

export function activeSessions(sql: Sql, limit = 100): Promise<SessionRow[]> {
  return sql<SessionRow[]>`SELECT ${COLUMNS(sql)} FROM sessions WHERE is_active
    ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
}

export function recentSessionsOfUser(sql: Sql, userId: number, limit = 20): Promise<SessionRow[]> {
  return sql<SessionRow[]>`SELECT ${COLUMNS(sql)} FROM sessions WHERE user_id = ${userId}
    ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
}

export function recentSessionsOfServer(sql: Sql, serverId: number, limit = 20): Promise<SessionRow[]> {
  return sql<SessionRow[]>`SELECT ${COLUMNS(sql)} FROM sessions WHERE server_id = ${serverId}
    ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
}

export interface RecordingRow {
  id: number;
  session_id: number;
  kind: "asciicast" | "rdp";
  channel: string | null;
  path: string;
  size: number;
  started_at: Date;
  ended_at: Date | null;
}

export function recordingsOfSession(sql: Sql, sessionRowId: number): Promise<RecordingRow[]> {
  return sql<RecordingRow[]>`SELECT id, session_id, kind, channel, path, size, started_at, ended_at
    FROM recordings WHERE session_id = ${sessionRowId} ORDER BY started_at, id`;
}

/** Sessions whose text id starts with `prefix` (at most `limit`, to tell a unique prefix from an ambiguous one). */
export function sessionsWithIdPrefix(sql: Sql, prefix: string, limit = 2): Promise<SessionRow[]> {
  return sql<SessionRow[]>`SELECT ${COLUMNS(sql)} FROM sessions
    WHERE session_id LIKE ${escapeLike(prefix) + "%"} ORDER BY started_at DESC, id DESC LIMIT ${limit}`;
}
