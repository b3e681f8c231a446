// The canonical byte encoding of an audit_log row (version 1), pure. The database computes the same bytes
// in SQL (jumphost_audit_canonical, migration 013) when the row is written; verification rebuilds them
// here from the row's fields, so the two must agree byte for byte (db/audit_chain_test.ts checks it).
//
// UTF-8 text, one line per field, each "name value\n", in this order:
//   jumphost-audit-v1
//   id <decimal>
//   at <YYYY-MM-DDTHH:MM:SS.ffffffZ, UTC, microseconds>
//   event_id <uuid | ->
//   actor <S>     action <S>     target <S>
//   source_ip <inet as PostgreSQL prints it, e.g. 10.0.0.1/32 | ->
//   success <true | false>
//   details <S of the details JSON as PostgreSQL prints jsonb: keys sorted by length then bytes, ", " and ": ">
//   node_id <S>
//   prev <64 hex digits: the previous row's hash; 64 zeros for the first row>
// where <S> is "-" for NULL, else "<UTF-8 byte length>:<text>" (so no value can forge a line break).
// The row's hash is SHA-256 of these bytes.
import { createHash } from "node:crypto";

export const AUDIT_ENCODING_VERSION = "jumphost-audit-v1";
export const GENESIS_HASH = new Uint8Array(32);

export interface AuditChainFields {
  id: number | string;
  /** as to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') prints it */
  at: string;
  eventId: string | null;
  actor: string;
  action: string;
  target: string | null;
  /** inet::text */
  sourceIp: string | null;
  success: boolean;
  /** jsonb::text */
  details: string;
  nodeId: string | null;
  prevHash: Uint8Array;
}

const enc = new TextEncoder();

function str(v: string | null): string {
  return v === null ? "-" : `${enc.encode(v).length}:${v}`;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new RangeError("not a hex string");
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function encodeAuditRow(r: AuditChainFields): Uint8Array {
  if (!/^\d+$/.test(String(r.id))) throw new RangeError(`audit row id ${r.id}`);
  if (r.prevHash.length !== 32) throw new RangeError(`prev hash of ${r.prevHash.length} bytes`);
  return enc.encode(
    `${AUDIT_ENCODING_VERSION}\n` +
      `id ${r.id}\n` +
      `at ${r.at}\n` +
      `event_id ${r.eventId ?? "-"}\n` +
      `actor ${str(r.actor)}\n` +
      `action ${str(r.action)}\n` +
      `target ${str(r.target)}\n` +
      `source_ip ${r.sourceIp ?? "-"}\n` +
      `success ${r.success ? "true" : "false"}\n` +
      `details ${str(r.details)}\n` +
      `node_id ${str(r.nodeId)}\n` +
      `prev ${toHex(r.prevHash)}\n`,
  );
}

export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}

export function auditRowHash(r: AuditChainFields): Uint8Array {
  return sha256(encodeAuditRow(r));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
