// What the end-user portal shows a jump user: only rows of that user (by id), never anyone else's.
import type { Sql } from "./client.ts";

export interface PortalGrant {
  id: number;
  /** the user group the grant came through; null for a grant to the user directly */
  via_group: string | null;
  scope_kind: "server" | "server_group";
  scope: string;
  /** the active servers the grant reaches (one for a server grant) */
  servers: string[];
  protocols: string[];
  logins: string[];
  port_forwarding: boolean;
  require_mfa: boolean;
  valid_from: Date;
  valid_until: Date;
}

/** The user's grants that are valid now or later (not revoked, not expired), soonest end first. */
export function portalGrantsOf(sql: Sql, userId: number): Promise<PortalGrant[]> {
  return sql<PortalGrant[]>`
    SELECT p.id, ug.name AS via_group,
      CASE WHEN p.server_id IS NOT NULL THEN 'server' ELSE 'server_group' END AS scope_kind,
      COALESCE(s.name, sg.name) AS scope,
      CASE WHEN p.server_id IS NOT NULL THEN ARRAY(SELECT s.name WHERE s.active)
           ELSE ARRAY(SELECT ms.name FROM server_group_members m JOIN servers ms ON ms.id = m.server_id
                      WHERE m.group_id = p.server_group_id AND ms.active ORDER BY ms.name) END AS servers,
      p.protocols, p.logins, p.port_forwarding, p.require_mfa, p.valid_from, p.valid_until
    FROM policies p
    LEFT JOIN user_groups ug ON ug.id = p.user_group_id
    LEFT JOIN servers s ON s.id = p.server_id LEFT JOIN server_groups sg ON sg.id = p.server_group_id
    WHERE (p.user_id = ${userId}
           OR p.user_group_id IN (SELECT group_id FROM user_group_members WHERE user_id = ${userId}))
      AND p.revoked_at IS NULL AND p.valid_until > now()
    ORDER BY p.valid_until, p.id`;
}

export interface PortalSessionRow {
  session_id: string;
  server_name: string;
  protocol: "ssh" | "rdp";
  ssh_login: string | null;
  source_ip: string;
  started_at: Date;
  ended_at: Date | null;
  is_active: boolean;
  termination_reason: string | null;
}

/** The user's own sessions, newest first. */
export function portalSessionsOf(sql: Sql, userId: number, limit = 50): Promise<PortalSessionRow[]> {
  return sql<PortalSessionRow[]>`
    SELECT session_id, server_name, protocol, ssh_login, host(source_ip) AS source_ip, started_at, ended_at,
      is_active, termination_reason
    FROM sessions WHERE user_id = ${userId}
    ORDER BY started_at DESC, id DESC LIMIT ${Math.min(Math.max(limit, 1), 500)}`;
}
