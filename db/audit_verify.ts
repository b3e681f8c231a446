// Verifies the audit chain: every row's hash against its canonical encoding, every link to the row
// before, the chain head, and every signed checkpoint. A problem names the row and what is wrong.
import type { Sql } from "./client.ts";
import { parsePublicSigningKey, type PublicSigningKey, verifySignature } from "../core/signing_key.ts";
import {
  chainHead,
  type ChainRow,
  chainRowBefore,
  chainRowIdByHash,
  chainRowsAfter,
  chainRowsByIds,
  type Checkpoint,
  firstChainIdSince,
  listCheckpoints,
} from "./audit_chain.ts";
import { auditRowHash, GENESIS_HASH, sameBytes, toHex } from "./audit_chain_encoding.ts";
import { checkpointStatement } from "./audit_checkpoint.ts";

export type ChainProblemKind = "edited" | "deleted" | "reordered" | "rewritten" | "truncated" | "checkpoint";

export interface ChainProblem {
  kind: ChainProblemKind;
  /** the row the problem shows at (for a checkpoint: the row it signs) */
  rowId: string;
  checkpointId?: string;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** rows checked, and the first and last id */
  rows: number;
  firstId: string | null;
  lastId: string | null;
  checkpoints: { checked: number; latest: { id: string; lastId: string; at: Date } | null };
  problems: ChainProblem[];
}

const MAX_PROBLEMS = 100;
const MAX_DIAGNOSES = 20; // hash lookups (sequential scans) to tell a reorder from a deletion

export interface VerifyOptions {
  /** check rows written at or after this time only (and their link to the row before) */
  since?: Date;
  /** the keys whose signatures count (normally the appliance's own) */
  trusted: PublicSigningKey[];
}

function isTrusted(trusted: PublicSigningKey[], openssh: string): PublicSigningKey | null {
  try {
    const k = parsePublicSigningKey(openssh);
    return trusted.find((t) => sameBytes(t.raw, k.raw)) ?? null;
  } catch {
    return null;
  }
}

/** Checks a checkpoint's signature and statement; a message when it is not good, else null. */
export function checkpointSignatureProblem(c: Checkpoint, trusted: PublicSigningKey[]): string | null {
  const key = isTrusted(trusted, c.publicKey);
  if (!key) return `signed by a key that is not trusted (${c.publicKey.slice(0, 40)}…)`;
  if (!verifySignature(key, new TextEncoder().encode(c.statement), c.signature)) return "bad signature";
  const expect = checkpointStatement({ nodeId: c.nodeId, at: c.at, lastId: c.lastId, lastHash: c.lastHash });
  if (expect !== c.statement) return "its columns differ from the signed statement";
  return null;
}

/** The id a row was written with, when its content matches its hash under an id near where it belongs. */
function originalId(row: ChainRow, owner: string | null): string | null {
  const here = BigInt(row.id);
  const candidates = new Set<bigint>();
  if (owner !== null) { for (let d = 1n; d <= 3n; d++) candidates.add(BigInt(owner) + d); }
  for (let d = -3n; d <= 3n; d++) if (here + d > 0n) candidates.add(here + d);
  for (const c of candidates) {
    if (sameBytes(auditRowHash({ ...row, id: String(c) }), row.hash)) return String(c);
  }
  return null;
}

export async function verifyAuditChain(sql: Sql, opts: VerifyOptions): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  const add = (p: ChainProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let diagnoses = 0;
  let startAfter = "0";
  let expectedPrev: Uint8Array = GENESIS_HASH;
  let prevId: string | null = null;
  if (opts.since) {
    const first = await firstChainIdSince(sql, opts.since);
    if (first !== null) {
      const before = await chainRowBefore(sql, first);
      startAfter = before?.id ?? "0";
      if (before) {
        expectedPrev = before.hash;
        prevId = before.id;
      }
    } else startAfter = "9223372036854775806";
  }
  let rows = 0;
  let firstId: string | null = null;
  let lastHash: Uint8Array | null = null;
  // rows found at another id than the one they were written with: current id → original id
  const moved = new Map<string, string>();
  // broken links of intact rows, judged at the end (a row after a moved one links to it, legitimately)
  const pendingLinks: { row: string; owner: string | null; after: string; prevId: string | null }[] = [];
  const lookup = async (h: Uint8Array) => diagnoses++ < MAX_DIAGNOSES ? await chainRowIdByHash(sql, h) : null;
  for (;;) {
    const batch = await chainRowsAfter(sql, startAfter);
    if (batch.length === 0) break;
    for (const row of batch) {
      rows++;
      firstId ??= row.id;
      const contentOk = sameBytes(auditRowHash(row), row.hash);
      const linkOk = sameBytes(row.prevHash, expectedPrev);
      const after = prevId === null ? "the start of the chain" : `row ${prevId}`;
      const owner = linkOk ? prevId : await lookup(row.prevHash);
      if (!contentOk) {
        const original = originalId(row, owner);
        if (original !== null && original !== row.id) {
          moved.set(row.id, original);
          add({
            kind: "reordered",
            rowId: row.id,
            message:
              `row ${row.id} is out of order: it was written as row ${original} and moved to id ${row.id}`,
          });
        } else {
          add({
            kind: "edited",
            rowId: row.id,
            message:
              `row ${row.id} (${row.action} by ${row.actor}) was edited: its content does not match its hash`,
          });
        }
      }
      if (!linkOk && contentOk) pendingLinks.push({ row: row.id, owner, after, prevId });
      expectedPrev = row.hash;
      prevId = row.id;
      lastHash = row.hash;
    }
    startAfter = batch[batch.length - 1].id;
  }
  for (const l of pendingLinks) {
    if (l.owner !== null && moved.has(l.owner)) continue; // it follows its predecessor, which was moved
    if (moved.has(l.row)) continue;
    if (l.owner !== null && l.owner !== l.prevId) {
      add({
        kind: "reordered",
        rowId: l.row,
        message: `row ${l.row} is out of order: it was written after row ${l.owner}, but follows ${l.after}`,
      });
    } else if (l.prevId !== null && BigInt(l.row) - BigInt(l.prevId) === 1n) {
      add({
        kind: "rewritten",
        rowId: l.prevId,
        message:
          `row ${l.prevId} was rewritten with a new hash: row ${l.row} was chained to another row ${l.prevId}`,
      });
    } else {
      add({
        kind: "deleted",
        rowId: l.row,
        message: `rows are missing between ${l.after} and row ${l.row}: ` +
          `row ${l.row} was chained to a row that is no longer there (deleted)`,
      });
    }
  }
  problems.sort((
    x,
    y,
  ) => (BigInt(x.rowId) < BigInt(y.rowId) ? -1 : BigInt(x.rowId) > BigInt(y.rowId) ? 1 : 0));
  const head = await chainHead(sql);
  const lastId = prevId;
  if (head.lastId !== "0") {
    if (lastId === null || BigInt(lastId) < BigInt(head.lastId)) {
      add({
        kind: "truncated",
        rowId: head.lastId,
        message: `the chain ends at ${lastId === null ? "no row" : `row ${lastId}`}, but its head names ` +
          `row ${head.lastId}: the last rows were deleted`,
      });
    } else if (lastId === head.lastId && lastHash && !sameBytes(lastHash, head.hash)) {
      add({
        kind: "rewritten",
        rowId: lastId,
        message: `row ${lastId}'s hash differs from the chain head's (the row was replaced)`,
      });
    }
  }

  const cps = await listCheckpoints(sql, opts.since ? firstId : null);
  const byId = new Map((await chainRowsByIds(sql, cps.map((c) => c.lastId))).map((r) => [r.id, r]));
  for (const c of cps) {
    const sig = checkpointSignatureProblem(c, opts.trusted);
    if (sig) {
      add({ kind: "checkpoint", rowId: c.lastId, checkpointId: c.id, message: `checkpoint ${c.id}: ${sig}` });
      continue;
    }
    if (c.lastId === "0") continue;
    const row = byId.get(c.lastId);
    if (!row) {
      add({
        kind: "checkpoint",
        rowId: c.lastId,
        checkpointId: c.id,
        message: `checkpoint ${c.id} signed row ${c.lastId}, which is gone (deleted)`,
      });
    } else if (!sameBytes(row.hash, c.lastHash)) {
      add({
        kind: "checkpoint",
        rowId: c.lastId,
        checkpointId: c.id,
        message: `checkpoint ${c.id} signed row ${c.lastId} with hash ${toHex(c.lastHash).slice(0, 16)}…, ` +
          `the row now has ${toHex(row.hash).slice(0, 16)}… (history rewritten up to there)`,
      });
    }
  }
  const latest = cps.length ? cps[cps.length - 1] : null;
  return {
    ok: problems.length === 0,
    rows,
    firstId,
    lastId,
    checkpoints: {
      checked: cps.length,
      latest: latest ? { id: latest.id, lastId: latest.lastId, at: latest.at } : null,
    },
    problems,
  };
}
