// Bulk data for the console benchmark, generated inside PostgreSQL (generate_series) so loading 1M rows
// takes seconds. Rows are written in time order, as the append-only tables fill in production (so the
// heap is correlated with time). Benchmark-only: the product never writes rows like this.
import type { Sql } from "../../db/client.ts";

export interface SeedSize {
  users: number;
  servers: number;
  sessions: number;
  activeSessions: number;
  audit: number;
  /** spread of the rows back from now */
  days: number;
}

export async function seed(sql: Sql, n: SeedSize, now: Date): Promise<void> {
  await sql`INSERT INTO users (name, full_name)
    SELECT 'user' || i, 'User ' || i FROM generate_series(1, ${n.users}) i`;
  await sql`INSERT INTO user_source_ips (user_id, cidr)
    SELECT id, ('10.' || (id / 250) || '.' || (id % 250) || '.1/32')::cidr FROM users`;
  await sql`INSERT INTO servers (name, address, protocols)
    SELECT 'srv' || i, '10.200.' || (i / 250) || '.' || (i % 250),
           CASE WHEN i % 5 = 0 THEN '{ssh,rdp}'::text[] ELSE '{ssh}'::text[] END
    FROM generate_series(1, ${n.servers}) i`;
  await sql`INSERT INTO policies (user_id, server_id, valid_from, valid_until, created_by)
    SELECT u.id, 1 + (u.id % ${n.servers}), ${now}::timestamptz - interval '1 day',
           ${now}::timestamptz + interval '30 days', 'bench'
    FROM users u`;
  // ended sessions, skewed so some users and hours are busier (a realistic top-10)
  await sql`INSERT INTO sessions (session_id, user_id, server_id, user_name, server_name, protocol, source_ip,
      started_at, ended_at, duration_seconds, is_active, termination_reason, node_id, ssh_login)
    SELECT 'bench-' || i, u, s, 'user' || u, 'srv' || s,
           CASE WHEN i % 7 = 0 THEN 'rdp' ELSE 'ssh' END,
           ('10.' || (u / 250) || '.' || (u % 250) || '.1')::inet,
           t, t + interval '10 minutes', 600, false,
           (ARRAY['normal','normal','normal','error','killed','timeout'])[1 + i % 6], 'bench', 'root'
    FROM (
      SELECT i,
        1 + (floor(power(random(), 3) * ${n.users}))::int AS u,
        1 + (i % ${n.servers}) AS s,
        ${now}::timestamptz - ((${n.sessions} - i)::float8 / ${n.sessions} * ${n.days}) * interval '1 day' AS t
      FROM generate_series(1, ${n.sessions - n.activeSessions}) i
    ) x ORDER BY t`;
  await sql`INSERT INTO sessions (session_id, user_id, server_id, user_name, server_name, protocol, source_ip,
      started_at, is_active, node_id, ssh_login)
    SELECT 'bench-live-' || i, 1 + i % ${n.users}, 1 + i % ${n.servers}, 'user' || (1 + i % ${n.users}),
           'srv' || (1 + i % ${n.servers}), 'ssh', '10.0.0.1', ${now}::timestamptz - (i || ' minutes')::interval,
           true, 'bench', 'root'
    FROM generate_series(1, ${n.activeSessions}) i`;
  await sql`INSERT INTO audit_log (at, actor, action, target, source_ip, success, details, node_id)
    SELECT ${now}::timestamptz - ((${n.audit} - i)::float8 / ${n.audit} * ${n.days}) * interval '1 day',
           'user' || (1 + i % ${n.users}),
           (ARRAY['ssh.access_granted','ssh.session_start','ssh.session_end','ssh.access_denied',
                  'rdp.access_granted','rdp.access_denied','user.update','console.login'])[1 + i % 8],
           'srv' || (1 + i % ${n.servers}),
           ('10.' || ((i % 60000) / 250) || '.' || (i % 250) || '.1')::inet,
           i % 8 NOT IN (3, 5),
           -- admin changes name the user they touched, as the console's own rows do
           CASE WHEN i % 8 = 6 THEN jsonb_build_object('user', 'user' || (1 + (i / 8) % ${n.users}))
                ELSE '{}'::jsonb END,
           'bench'
    FROM generate_series(1, ${n.audit}) i`;
  // one recording per ended session, for the /metrics total
  await sql`INSERT INTO recordings (session_id, kind, path, size, started_at, ended_at)
    SELECT id, CASE WHEN protocol = 'rdp' THEN 'rdp' ELSE 'asciicast' END, '/bench/' || session_id,
           1000 + id % 100000, started_at, ended_at
    FROM sessions WHERE NOT is_active`;
  await sql`ANALYZE`;
}
