// nodes: every serve sharing this database registers, beats, and marks itself stopped; a live node declares
// a silent one lost, once across the cluster (the state 'up' → 'lost' UPDATE is the claim), and in the
// same transaction closes its open sessions as node_lost and requeues its claimed conversion jobs.
// Heartbeat times are the database's clock (now()), so health never depends on the nodes' clocks.
import type { Sql } from "./client.ts";
import { withTx } from "./client.ts";
import { writeAudit } from "./audit.ts";
import type { NodeState } from "../core/node_health.ts";

export interface NodeRegistration {
  name: string;
  bootId: string;
  version: string;
  sshListen: string[];
  rdpListen: string[];
  webListen: string[];
  /** the node's own clock now, to record its offset from the database's */
  nodeNow: Date;
}

export interface NodeRow {
  name: string;
  boot_id: string;
  state: NodeState;
  version: string;
  ssh_listen: string[];
  rdp_listen: string[];
  web_listen: string[];
  started_at: Date;
  heartbeat_at: Date;
  /** milliseconds since the last beat, on the database's clock */
  heartbeat_age_ms: number;
  clock_skew_ms: number;
  stopped_at: Date | null;
  lost_at: Date | null;
  lost_by: string | null;
  /** its sessions still open in the database */
  active_sessions: number;
}

/**
 * Registers this start of the node (a row under the same name, left by an earlier start or another
 * process, is taken over). Returns the previous row's state and boot id, if any.
 */
export async function registerNode(
  sql: Sql,
  n: NodeRegistration,
): Promise<{ previous: { state: NodeState; boot_id: string; heartbeat_age_ms: number } | null }> {
  return await withTx(sql, async (tx) => {
    const [prev] = await tx<{ state: NodeState; boot_id: string; heartbeat_age_ms: number }[]>`
      SELECT state, boot_id::text, (EXTRACT(EPOCH FROM (now() - heartbeat_at)) * 1000)::bigint
        AS heartbeat_age_ms
      FROM nodes WHERE name = ${n.name} FOR UPDATE`;
    await tx`INSERT INTO nodes (name, boot_id, state, version, ssh_listen, rdp_listen, web_listen, started_at,
                                heartbeat_at, clock_skew_ms)
      VALUES (${n.name}, ${n.bootId}::uuid, 'up', ${n.version}, ${n.sshListen}::text[], ${n.rdpListen}::text[],
              ${n.webListen}::text[], now(), now(),
              ${n.nodeNow.getTime()}::float8 - EXTRACT(EPOCH FROM clock_timestamp()) * 1000)
      ON CONFLICT (name) DO UPDATE SET boot_id = EXCLUDED.boot_id, state = 'up', version = EXCLUDED.version,
        ssh_listen = EXCLUDED.ssh_listen, rdp_listen = EXCLUDED.rdp_listen, web_listen = EXCLUDED.web_listen,
        started_at = now(), heartbeat_at = now(), clock_skew_ms = EXCLUDED.clock_skew_ms,
        stopped_at = NULL, lost_at = NULL, lost_by = NULL`;
    return { previous: prev ?? null };
  });
}

export type BeatResult =
  | { kind: "ok" }
  /** another node declared this one lost while it was silent: its sessions are closed in the database */
  | { kind: "was_lost"; lostAt: Date; lostBy: string | null }
  /** another process registered under this name since */
  | { kind: "replaced"; bootId: string }
  | { kind: "missing" };

/**
 * One heartbeat. Only the row of this start is touched; a row declared lost comes back up (the node
 * must then end the sessions that were closed under it).
 */
export async function beatNode(sql: Sql, name: string, bootId: string, nodeNow: Date): Promise<BeatResult> {
  const [r] = await sql<{ boot_id: string; was: NodeState; lost_at: Date | null; lost_by: string | null }[]>`
    WITH before AS (SELECT name, boot_id, state, lost_at, lost_by FROM nodes WHERE name = ${name} FOR UPDATE)
    UPDATE nodes n SET heartbeat_at = now(),
      clock_skew_ms = ${nodeNow.getTime()}::float8 - EXTRACT(EPOCH FROM clock_timestamp()) * 1000,
      state = 'up', lost_at = NULL, lost_by = NULL, stopped_at = NULL
    FROM before WHERE n.name = before.name AND before.boot_id = ${bootId}::uuid
    RETURNING before.boot_id::text, before.state AS was, before.lost_at, before.lost_by`;
  if (r) {
    return r.was === "lost" ? { kind: "was_lost", lostAt: r.lost_at!, lostBy: r.lost_by } : { kind: "ok" };
  }
  const [other] = await sql<{ boot_id: string }[]>`SELECT boot_id::text FROM nodes WHERE name = ${name}`;
  return other ? { kind: "replaced", bootId: other.boot_id } : { kind: "missing" };
}

/** A clean stop: the node's sessions were closed by its proxies; nothing for the others to do. */
export async function markNodeStopped(sql: Sql, name: string, bootId: string): Promise<void> {
  await sql`UPDATE nodes SET state = 'stopped', stopped_at = now(), lost_at = NULL, lost_by = NULL
    WHERE name = ${name} AND boot_id = ${bootId}::uuid`;
}

export function listNodes(sql: Sql): Promise<NodeRow[]> {
  return sql<NodeRow[]>`
    SELECT name, boot_id::text, state, version, ssh_listen, rdp_listen, web_listen, started_at, heartbeat_at,
           GREATEST(0, (EXTRACT(EPOCH FROM (now() - heartbeat_at)) * 1000))::bigint AS heartbeat_age_ms,
           clock_skew_ms, stopped_at, lost_at, lost_by,
           (SELECT count(*) FROM sessions s WHERE s.is_active AND s.node_id = nodes.name)::int AS active_sessions
    FROM nodes ORDER BY name`;
}

export interface LostNode {
  name: string;
  heartbeat_at: Date;
  /** session ids closed as node_lost */
  sessions: string[];
  /** conversion job ids put back in the queue (or failed, when that was their last attempt) */
  conversions: number[];
}

/**
 * Declares every node silent for `lostAfterS` seconds lost, on behalf of `by`. Each node is declared once
 * across the cluster: the UPDATE … WHERE state = 'up' takes its row lock, so a concurrent declarer finds
 * the state changed and returns nothing. Sessions, jobs and the audit row commit with the state.
 */
export async function declareLostNodes(sql: Sql, by: string, lostAfterS: number): Promise<LostNode[]> {
  return await withTx(sql, async (tx) => {
    const lost = await tx<{ name: string; heartbeat_at: Date }[]>`
      UPDATE nodes SET state = 'lost', lost_at = now(), lost_by = ${by}
      WHERE state = 'up' AND name <> ${by} AND heartbeat_at < now() - make_interval(secs => ${lostAfterS})
      RETURNING name, heartbeat_at`;
    const out: LostNode[] = [];
    for (const n of lost) {
      const detail = `node ${n.name} lost (no heartbeat since ${n.heartbeat_at.toISOString()})`;
      const sessions = await tx<{ session_id: string }[]>`UPDATE sessions SET
          is_active = false,
          ended_at = GREATEST(now(), started_at),
          duration_seconds = GREATEST(0, round(EXTRACT(EPOCH FROM (now() - started_at))))::int,
          termination_reason = 'node_lost',
          termination_detail = ${detail}
        WHERE is_active AND node_id = ${n.name}
        RETURNING session_id`;
      const jobs = await tx<{ id: number }[]>`UPDATE conversions SET
          state = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
          next_attempt_at = now(),
          finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
          error = ${`the converting node (${n.name}) was lost`},
          locked_by = NULL, heartbeat_at = NULL, eta_seconds = NULL, progress = 0
        WHERE state = 'running' AND worker_node = ${n.name}
        RETURNING id`;
      out.push({
        name: n.name,
        heartbeat_at: n.heartbeat_at,
        sessions: sessions.map((s) => s.session_id),
        conversions: jobs.map((j) => j.id),
      });
    }
    // audit rows last: the chain head's lock is held until commit (db/audit.ts)
    for (const n of out) {
      await writeAudit(tx, {
        actor: `node:${by}`,
        action: "node.lost",
        target: n.name,
        success: true,
        details: {
          last_heartbeat: n.heartbeat_at.toISOString(),
          lost_after_s: lostAfterS,
          sessions: n.sessions,
          conversions: n.conversions,
        },
      }, by);
    }
    return out;
  });
}

/** Sessions of `name` that a declaration of loss closed since `since` (the node, back, must end them). */
export async function sessionsClosedAsLost(sql: Sql, name: string, since: Date): Promise<string[]> {
  const rows = await sql<{ session_id: string }[]>`SELECT session_id FROM sessions
    WHERE node_id = ${name} AND termination_reason = 'node_lost' AND ended_at >= ${since}`;
  return rows.map((r) => r.session_id);
}
