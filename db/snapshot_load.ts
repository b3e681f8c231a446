// Reads the whole access model in three queries and compiles it into a policy snapshot.
import { parseSchedule, type WeeklyWindow } from "../policy/schedule.ts";
import type { Sql } from "./client.ts";
import {
  buildSnapshot,
  type Policy,
  type Protocol,
  type RdpSecurity,
  type Server,
  type Snapshot,
  type User,
} from "../policy/mod.ts";

export async function loadSnapshotInput(
  sql: Sql,
): Promise<{ users: User[]; servers: Server[]; policies: Policy[] }> {
  const [users, servers, policies] = await Promise.all([
    sql<
      {
        id: number;
        name: string;
        active: boolean;
        has_password: boolean;
        mfa_required: boolean;
        cidrs: { cidr: string; shared: boolean }[];
        group_ids: number[];
        fps: string[];
      }[]
    >`
      SELECT u.id, u.name, u.active, (u.password_hash IS NOT NULL OR u.directory_dn IS NOT NULL) AS has_password, u.mfa_required,
        COALESCE((SELECT json_agg(json_build_object('cidr', s.cidr::text, 'shared', s.shared))
                  FROM user_source_ips s WHERE s.user_id = u.id), '[]') AS cidrs,
        COALESCE((SELECT array_agg(m.group_id) FROM user_group_members m WHERE m.user_id = u.id), '{}') AS group_ids,
        COALESCE((SELECT array_agg(k.fingerprint) FROM user_ssh_keys k WHERE k.user_id = u.id), '{}') AS fps
      FROM users u`,
    sql<
      {
        id: number;
        name: string;
        address: string;
        ssh_port: number;
        rdp_port: number;
        protocols: Protocol[];
        pool_ip: string | null;
        rdp_listen_port: number | null;
        rdp_security: RdpSecurity;
        password_passthrough: boolean;
        active: boolean;
        require_mfa: boolean;
        group_ids: number[];
      }[]
    >`
      SELECT s.id, s.name, s.address, s.ssh_port, s.rdp_port, s.protocols, host(s.pool_ip) AS pool_ip,
        s.rdp_listen_port, s.rdp_security, s.password_passthrough, s.active, s.require_mfa,
        COALESCE((SELECT array_agg(m.group_id) FROM server_group_members m WHERE m.server_id = s.id), '{}') AS group_ids
      FROM servers s`,
    // expired policies older than a day cannot matter for decisions or for "expired" explanations of today
    sql<
      {
        id: number;
        user_id: number | null;
        user_group_id: number | null;
        server_id: number | null;
        server_group_id: number | null;
        protocols: Protocol[];
        logins: string[];
        port_forwarding: boolean;
        valid_from: Date;
        valid_until: Date;
        revoked_at: Date | null;
        require_mfa: boolean;
        schedules: string[];
      }[]
    >`
      SELECT id, user_id, user_group_id, server_id, server_group_id, protocols, logins, port_forwarding,
             valid_from, valid_until, revoked_at, require_mfa, schedules
      FROM policies WHERE valid_until > now() - interval '1 day'`,
  ]);
  return {
    users: users.map((u) => ({
      id: u.id,
      name: u.name,
      active: u.active,
      sourceCidrs: u.cidrs,
      groupIds: u.group_ids,
      hasPassword: u.has_password,
      sshKeyFingerprints: u.fps,
      mfaRequired: u.mfa_required,
    })),
    servers: servers.map((s) => ({
      id: s.id,
      name: s.name,
      address: s.address,
      sshPort: s.ssh_port,
      rdpPort: s.rdp_port,
      protocols: s.protocols,
      poolIp: s.pool_ip,
      rdpListenPort: s.rdp_listen_port,
      rdpSecurity: s.rdp_security,
      passwordPassthrough: s.password_passthrough,
      active: s.active,
      groupIds: s.group_ids,
      requireMfa: s.require_mfa,
    })),
    policies: policies.map((p) => ({
      id: p.id,
      subject: p.user_id !== null
        ? { kind: "user" as const, userId: p.user_id }
        : { kind: "user_group" as const, userGroupId: p.user_group_id! },
      scope: p.server_id !== null
        ? { kind: "server" as const, serverId: p.server_id }
        : { kind: "server_group" as const, serverGroupId: p.server_group_id! },
      protocols: p.protocols,
      logins: p.logins,
      portForwarding: p.port_forwarding,
      validFrom: p.valid_from,
      validUntil: p.valid_until,
      revokedAt: p.revoked_at,
      requireMfa: p.require_mfa,
      schedules: p.schedules.map(loadSchedule),
    })),
  };
}

export async function loadSnapshot(sql: Sql): Promise<Snapshot> {
  return buildSnapshot(await loadSnapshotInput(sql));
}

/**
 * A stored schedule (validated when written). One that no longer parses (a time zone gone from the system's
 * zone database) becomes a window that never opens: that policy grants nothing, the rest of the snapshot
 * stands — fail closed for it alone.
 */
function loadSchedule(text: string): WeeklyWindow {
  try {
    return parseSchedule(text);
  } catch {
    return { days: [], startMin: 0, endMin: 1, zone: "UTC" };
  }
}
