// Reading the audit chain for verification and export, and its signed checkpoints (migration 013).
import type { Sql } from "./client.ts";
import type { AuditChainFields } from "./audit_chain_encoding.ts";

export interface ChainRow extends AuditChainFields {
  id: string;
  hash: Uint8Array;
}

interface RawChainRow {
  id: string;
  at: string;
  event_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  source_ip: string | null;
  success: boolean;
  details: string;
  node_id: string | null;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

const toChainRow = (r: RawChainRow): ChainRow => ({
  id: String(r.id),
  at: r.at,
  eventId: r.event_id,
  actor: r.actor,
  action: r.action,
  target: r.target,
  sourceIp: r.source_ip,
  success: r.success,
  details: r.details,
  nodeId: r.node_id,
  prevHash: new Uint8Array(r.prev_hash),
  hash: new Uint8Array(r.hash),
});

// the fields as text, exactly as the encoding wants them (see audit_chain_encoding.ts)
const COLUMNS = (sql: Sql) =>
  sql`id::text AS id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, event_id::text,
      actor, action, target, source_ip::text AS source_ip, success, details::text AS details, node_id,
      prev_hash, hash`;

/** Rows with id > afterId, in id (chain) order. */
export async function chainRowsAfter(sql: Sql, afterId: string | number, limit = 5000): Promise<ChainRow[]> {
  const rows = await sql<RawChainRow[]>`
    SELECT ${COLUMNS(sql)} FROM audit_log a WHERE a.id > ${
    String(afterId)
  }::bigint ORDER BY a.id LIMIT ${limit}`;
  return rows.map(toChainRow);
}

export async function chainRowsByIds(sql: Sql, ids: (string | number)[]): Promise<ChainRow[]> {
  if (ids.length === 0) return [];
  const rows = await sql<RawChainRow[]>`
    SELECT ${COLUMNS(sql)} FROM audit_log a WHERE a.id = ANY(${ids.map(String)}::bigint[]) ORDER BY a.id`;
  return rows.map(toChainRow);
}

/** The id of the first row at or after `since`, or null when there is none. */
export async function firstChainIdSince(sql: Sql, since: Date): Promise<string | null> {
  const [r] = await sql<
    { id: string | null }[]
  >`SELECT min(id)::text AS id FROM audit_log WHERE at >= ${since}`;
  return r.id;
}

/** The row just before `id` in the chain (the greatest smaller id), or null. */
export async function chainRowBefore(sql: Sql, id: string): Promise<ChainRow | null> {
  const [r] = await sql<RawChainRow[]>`
    SELECT ${COLUMNS(sql)} FROM audit_log a WHERE a.id < ${id}::bigint ORDER BY a.id DESC LIMIT 1`;
  return r ? toChainRow(r) : null;
}

/** The id of the row whose hash this is (a diagnosis after a broken link: a sequential scan, rare). */
export async function chainRowIdByHash(sql: Sql, hash: Uint8Array): Promise<string | null> {
  const [r] = await sql<{ id: string }[]>`SELECT id::text AS id FROM audit_log WHERE hash = ${hash} LIMIT 1`;
  return r?.id ?? null;
}

export interface ChainHead {
  lastId: string;
  hash: Uint8Array;
}

export async function chainHead(sql: Sql): Promise<ChainHead> {
  const [r] = await sql<{ last_id: string; hash: Uint8Array }[]>`
    SELECT last_id::text AS last_id, hash FROM audit_chain_head`;
  return { lastId: r.last_id, hash: new Uint8Array(r.hash) };
}

export interface Checkpoint {
  id: string;
  at: Date;
  nodeId: string;
  lastId: string;
  lastHash: Uint8Array;
  statement: string;
  publicKey: string;
  signature: Uint8Array;
}

interface RawCheckpoint {
  id: string;
  at: Date;
  node_id: string;
  last_id: string;
  last_hash: Uint8Array;
  statement: string;
  public_key: string;
  signature: Uint8Array;
}

const toCheckpoint = (r: RawCheckpoint): Checkpoint => ({
  id: String(r.id),
  at: r.at,
  nodeId: r.node_id,
  lastId: String(r.last_id),
  lastHash: new Uint8Array(r.last_hash),
  statement: r.statement,
  publicKey: r.public_key,
  signature: new Uint8Array(r.signature),
});

export async function addCheckpoint(sql: Sql, c: Omit<Checkpoint, "id">): Promise<string> {
  const [r] = await sql<{ id: string }[]>`
    INSERT INTO audit_checkpoints (at, node_id, last_id, last_hash, statement, public_key, signature)
    VALUES (${c.at}, ${c.nodeId}, ${c.lastId}::bigint, ${c.lastHash}, ${c.statement}, ${c.publicKey},
            ${c.signature})
    RETURNING id::text AS id`;
  return r.id;
}

/** Checkpoints covering rows with id >= fromId (all when null), oldest first. */
export async function listCheckpoints(sql: Sql, fromId: string | null = null): Promise<Checkpoint[]> {
  const rows = await sql<RawCheckpoint[]>`
    SELECT id::text AS id, at, node_id, last_id::text AS last_id, last_hash, statement, public_key, signature
    FROM audit_checkpoints c ${fromId === null ? sql`` : sql`WHERE c.last_id >= ${fromId}::bigint`}
    ORDER BY c.id`;
  return rows.map(toCheckpoint);
}

export async function checkpointById(sql: Sql, id: string): Promise<Checkpoint | null> {
  const [r] = await sql<RawCheckpoint[]>`
    SELECT id::text AS id, at, node_id, last_id::text AS last_id, last_hash, statement, public_key, signature
    FROM audit_checkpoints c WHERE c.id = ${id}::bigint`;
  return r ? toCheckpoint(r) : null;
}

export async function latestCheckpoint(sql: Sql): Promise<Checkpoint | null> {
  const [r] = await sql<RawCheckpoint[]>`
    SELECT id::text AS id, at, node_id, last_id::text AS last_id, last_hash, statement, public_key, signature
    FROM audit_checkpoints c ORDER BY c.id DESC LIMIT 1`;
  return r ? toCheckpoint(r) : null;
}

/** The ids of a session's audit rows (details session_id / session, or the session as target). */
export async function sessionAuditRowIds(sql: Sql, sessionId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT a.id::text AS id FROM audit_log a
    WHERE details->>'session_id' = ${sessionId} OR details->>'session' = ${sessionId} OR target = ${sessionId}
    ORDER BY a.id`;
  return rows.map((r) => r.id);
}

export interface CanonicalRow {
  id: string;
  /** the canonical encoding as the database computes it from the row as it is now */
  bytes: Uint8Array;
  /** the hash stored in the row */
  hash: Uint8Array;
}

/** Rows fromId..toId (inclusive) with their canonical bytes, at most `limit` from fromId on. */
export async function canonicalRowsBetween(
  sql: Sql,
  fromId: string,
  toId: string,
  limit = 5000,
): Promise<CanonicalRow[]> {
  const rows = await sql<{ id: string; bytes: Uint8Array; hash: Uint8Array }[]>`
    SELECT id::text AS id, jumphost_audit_canonical(a) AS bytes, hash FROM audit_log a
    WHERE a.id >= ${fromId}::bigint AND a.id <= ${toId}::bigint ORDER BY a.id LIMIT ${limit}`;
  return rows.map((r) => ({ id: r.id, bytes: new Uint8Array(r.bytes), hash: new Uint8Array(r.hash) }));
}
