// sessions (write side, used by the proxies): open a row when the backend accepts, update what is learned
// during the session, close it with a reason. Reads for the console live in session_queries.ts.
import type { Sql } from "./client.ts";

export type TerminationReason =
  | "normal"
  | "error"
  | "timeout"
  | "killed"
  | "expired"
  | "revoked"
  | "shutdown"
  /** the owning node stopped beating and another declared it lost (db/nodes.ts) */
  | "node_lost";

export interface NewSession {
  sessionId: string;
  userId: number;
  serverId: number;
  userName: string;
  serverName: string;
  protocol: "ssh" | "rdp";
  sourceIp: string;
  proxyIp: string | null;
  backendIp: string;
  backendPort: number;
  sshLogin: string | null;
  policyId: number;
  nodeId: string;
  metadata: Record<string, unknown>;
}

export async function openSession(sql: Sql, s: NewSession): Promise<number> {
  const [r] = await sql<{ id: number }[]>`
    INSERT INTO sessions (session_id, user_id, server_id, user_name, server_name, protocol, source_ip, proxy_ip,
                          backend_ip, backend_port, ssh_login, policy_id, node_id, metadata)
    VALUES (${s.sessionId}, ${s.userId}, ${s.serverId}, ${s.userName}, ${s.serverName}, ${s.protocol},
            ${s.sourceIp}::inet, ${s.proxyIp}::inet, ${s.backendIp}, ${s.backendPort}, ${s.sshLogin},
            ${s.policyId}, ${s.nodeId}, ${sql.json(s.metadata as never)})
    RETURNING id`;
  return r.id;
}

export interface SessionUpdate {
  subsystem?: string | null;
  sshAgentUsed?: boolean;
  metadata?: Record<string, unknown>;
  policyId?: number;
}

export async function updateSession(sql: Sql, id: number, u: SessionUpdate): Promise<void> {
  await sql`UPDATE sessions SET
      subsystem = ${u.subsystem === undefined ? sql`subsystem` : u.subsystem},
      ssh_agent_used = ${u.sshAgentUsed === undefined ? sql`ssh_agent_used` : u.sshAgentUsed},
      metadata = ${u.metadata === undefined ? sql`metadata` : sql.json(u.metadata as never)},
      policy_id = ${u.policyId === undefined ? sql`policy_id` : u.policyId}
    WHERE id = ${id} AND is_active`;
}

export interface SessionEnd {
  reason: TerminationReason;
  detail: string | null;
  recordingPath: string | null;
  recordingSize: number | null;
  metadata?: Record<string, unknown>;
  subsystem?: string | null;
  sshAgentUsed?: boolean;
  /** when the session really ended (a close retried after a database outage keeps its time) */
  endedAt: Date;
}

/** Closes an active row; false when it was already closed (e.g. by the start-up sweep). */
export async function closeSession(sql: Sql, id: number, e: SessionEnd): Promise<boolean> {
  const r = await sql`UPDATE sessions SET
      is_active = false,
      ended_at = GREATEST(${e.endedAt}, started_at),
      duration_seconds = GREATEST(0, round(EXTRACT(EPOCH FROM (${e.endedAt}::timestamptz - started_at))))::int,
      termination_reason = ${e.reason},
      termination_detail = ${e.detail},
      recording_path = ${e.recordingPath},
      recording_size = ${e.recordingSize},
      metadata = ${e.metadata === undefined ? sql`metadata` : sql.json(e.metadata as never)},
      subsystem = ${e.subsystem === undefined ? sql`subsystem` : e.subsystem},
      ssh_agent_used = ${e.sshAgentUsed === undefined ? sql`ssh_agent_used` : e.sshAgentUsed}
    WHERE id = ${id} AND is_active`;
  return r.count > 0;
}

/**
 * Closes rows this node left active (it crashed or was killed): they cannot be live any more.
 * Returns the session ids closed.
 */
export async function closeOrphanedSessions(
  sql: Sql,
  nodeId: string,
  protocol: "ssh" | "rdp",
  detail: string,
): Promise<string[]> {
  const rows = await sql<{ session_id: string }[]>`UPDATE sessions SET
      is_active = false,
      ended_at = now(),
      duration_seconds = GREATEST(0, round(EXTRACT(EPOCH FROM (now() - started_at))))::int,
      termination_reason = 'error',
      termination_detail = ${detail}
    WHERE is_active AND node_id = ${nodeId} AND protocol = ${protocol}
    RETURNING session_id`;
  return rows.map((r) => r.session_id);
}

export interface ActiveSessionRow {
  id: number;
  session_id: string;
  user_name: string;
  source_ip: string;
  server_name: string;
  ssh_login: string | null;
  protocol: "ssh" | "rdp";
  started_at: Date;
  duration_seconds: number;
  subsystem: string | null;
  node_id: string;
}

export function listActiveSessions(sql: Sql): Promise<ActiveSessionRow[]> {
  return sql<ActiveSessionRow[]>`
    SELECT id, session_id, user_name, host(source_ip) AS source_ip, server_name, ssh_login, protocol, started_at,
           GREATEST(0, round(EXTRACT(EPOCH FROM (now() - started_at))))::int AS duration_seconds, subsystem, node_id
    FROM sessions WHERE is_active ORDER BY started_at, id`;
}

/** Finds a session by its text id or its numeric row id. */
export async function findSessionRef(
  sql: Sql,
  ref: string,
): Promise<
  { id: number; session_id: string; is_active: boolean; node_id: string; user_name: string } | null
> {
  const byNumber = /^\d{1,15}$/.test(ref) ? Number(ref) : -1;
  const [r] = await sql<
    { id: number; session_id: string; is_active: boolean; node_id: string; user_name: string }[]
  >`
    SELECT id, session_id, is_active, node_id, user_name FROM sessions
    WHERE session_id = ${ref} OR id = ${byNumber} ORDER BY (session_id = ${ref}) DESC LIMIT 1`;
  return r ?? null;
}

export async function isSessionActive(sql: Sql, id: number): Promise<boolean> {
  const [r] = await sql<{ is_active: boolean }[]>`SELECT is_active FROM sessions WHERE id = ${id}`;
  return r?.is_active ?? false;
}

/** Closes an active row whose node cannot be reached (`sessions kill --force`). */
export async function forceCloseSession(
  sql: Sql,
  id: number,
  reason: TerminationReason,
  detail: string,
): Promise<boolean> {
  const r = await sql`UPDATE sessions SET
      is_active = false,
      ended_at = now(),
      duration_seconds = GREATEST(0, round(EXTRACT(EPOCH FROM (now() - started_at))))::int,
      termination_reason = ${reason},
      termination_detail = ${detail}
    WHERE id = ${id} AND is_active`;
  return r.count > 0;
}
