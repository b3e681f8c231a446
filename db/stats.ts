// Dashboard figures: counts, connections per hour, busiest users. Each is one indexed query.
import type { Sql } from "./client.ts";

export interface DashboardCounts {
  activeSsh: number;
  activeRdp: number;
  users: number;
  servers: number;
  activePolicies: number;
  denialsToday: number;
  /** recordings waiting for or in conversion; null when this database has no conversion queue */
  conversionQueue: number | null;
}

export async function dashboardCounts(sql: Sql, now: Date): Promise<DashboardCounts> {
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const [r] = await sql<(Omit<DashboardCounts, "conversionQueue"> & { has_conversions: boolean })[]>`
    SELECT
      (SELECT count(*) FROM sessions WHERE is_active AND protocol = 'ssh')::int AS "activeSsh",
      (SELECT count(*) FROM sessions WHERE is_active AND protocol = 'rdp')::int AS "activeRdp",
      (SELECT count(*) FROM users)::int AS users,
      (SELECT count(*) FROM servers)::int AS servers,
      (SELECT count(*) FROM policies WHERE revoked_at IS NULL AND valid_from <= ${now}
         AND valid_until > ${now})::int AS "activePolicies",
      -- a summary row of folded pre-identification denials stands for its count
      (SELECT COALESCE(sum(CASE WHEN details->>'aggregated' = 'true' THEN (details->>'count')::int ELSE 1 END), 0)
         FROM audit_log WHERE NOT success AND at >= ${dayStart}
         AND action IN ('ssh.access_denied', 'rdp.access_denied'))::int AS "denialsToday",
      to_regclass('conversions') IS NOT NULL AS has_conversions`;
  let conversionQueue: number | null = null;
  if (r.has_conversions) {
    const [q] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM conversions WHERE state IN ('pending', 'running')`;
    conversionQueue = q.n;
  }
  return {
    activeSsh: r.activeSsh,
    activeRdp: r.activeRdp,
    users: r.users,
    servers: r.servers,
    activePolicies: r.activePolicies,
    denialsToday: r.denialsToday,
    conversionQueue,
  };
}

export interface HourBucket {
  hour: Date;
  ssh: number;
  rdp: number;
}

/** Sessions started in each of the 24 hours up to `now` (the current hour last), zero-filled. */
export async function connectionsPerHour(sql: Sql, now: Date): Promise<HourBucket[]> {
  const end = new Date(Math.floor(now.getTime() / 3600_000) * 3600_000 + 3600_000);
  const start = new Date(end.getTime() - 24 * 3600_000);
  const rows = await sql<{ hour: Date; ssh: number; rdp: number }[]>`
    SELECT date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
      count(*) FILTER (WHERE protocol = 'ssh')::int AS ssh,
      count(*) FILTER (WHERE protocol = 'rdp')::int AS rdp
    FROM sessions WHERE started_at >= ${start} AND started_at < ${end}
    GROUP BY 1`;
  const byHour = new Map(rows.map((r) => [r.hour.getTime(), r]));
  const out: HourBucket[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += 3600_000) {
    const r = byHour.get(t);
    out.push({ hour: new Date(t), ssh: r?.ssh ?? 0, rdp: r?.rdp ?? 0 });
  }
  return out;
}

export interface UserCount {
  user_name: string;
  sessions: number;
}

/** The users with the most sessions started since `since`. */
export function topUsers(sql: Sql, since: Date, limit = 10): Promise<UserCount[]> {
  return sql<UserCount[]>`
    SELECT user_name, count(*)::int AS sessions FROM sessions WHERE started_at >= ${since}
    GROUP BY user_name ORDER BY sessions DESC, user_name LIMIT ${limit}`;
}
