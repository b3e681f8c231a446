// Signed checkpoints of the audit chain: the chain's head (last row id and hash) at a moment, signed with
// the appliance's Ed25519 key. A checkpoint pins history: even a chain recomputed from an edited row on
// (every later hash rewritten) no longer matches the signed hash.
import type { Sql } from "./client.ts";
import type { SigningKey } from "../core/signing_key.ts";
import { addCheckpoint, chainHead, type Checkpoint, latestCheckpoint } from "./audit_chain.ts";
import { sameBytes, toHex } from "./audit_chain_encoding.ts";

export const CHECKPOINT_VERSION = "jumphost-audit-checkpoint-v1";

/** The exact text a checkpoint signs (UTF-8). */
export function checkpointStatement(
  c: { nodeId: string; at: Date; lastId: string; lastHash: Uint8Array },
): string {
  return `${CHECKPOINT_VERSION}\nnode ${c.nodeId}\nat ${c.at.toISOString()}\nlast_id ${c.lastId}\n` +
    `last_hash ${toHex(c.lastHash)}\n`;
}

/**
 * Signs the chain's current head, unless the latest checkpoint already covers it (`force` signs anyway).
 * Returns the new checkpoint's id, or null when nothing was written.
 */
export async function writeCheckpoint(
  sql: Sql,
  key: SigningKey,
  nodeId: string,
  opts: { force?: boolean; now?: Date } = {},
): Promise<string | null> {
  const head = await chainHead(sql);
  const last = await latestCheckpoint(sql);
  if (!opts.force && last && last.lastId === head.lastId && sameBytes(last.lastHash, head.hash)) return null;
  const at = opts.now ?? new Date();
  const c: Omit<Checkpoint, "id"> = {
    at,
    nodeId,
    lastId: head.lastId,
    lastHash: head.hash,
    statement: checkpointStatement({ nodeId, at, lastId: head.lastId, lastHash: head.hash }),
    publicKey: key.publicKey.openssh,
    signature: new Uint8Array(0),
  };
  c.signature = key.sign(new TextEncoder().encode(c.statement));
  return await addCheckpoint(sql, c);
}
