// Sealing a recording when it closes, and verifying it later. The seal is the manifest (manifest.ts)
// signed with the appliance key: kept in recording_seals and written beside the file as <file>.manifest
// and <file>.manifest.sig (SSHSIG, for ssh-keygen -Y verify). Verifying hashes the file again.
// An encrypted recording (`.age`) is hashed as stored, ciphertext: anyone can verify it without a key,
// and age's per-chunk authentication already ties the plaintext to those bytes.
import { basename } from "node:path";
import { createHash } from "node:crypto";
import type { Sql } from "../db/client.ts";
import {
  parsePublicSigningKey,
  type PublicSigningKey,
  type SigningKey,
  verifySignature,
} from "../core/signing_key.ts";
import {
  addSeal,
  type RecordingForSeal,
  recordingForSeal,
  sealAuditOf,
  sealOf,
} from "../db/recording_seals.ts";
import { type Manifest, MANIFEST_NAMESPACE, manifestText, parseManifest } from "./manifest.ts";

/** SHA-256 (hex) and size of a file as it is on disk, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  using f = await Deno.open(path, { read: true });
  for await (const chunk of f.readable) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest("hex"), size };
}

/** A file problem while sealing (unreadable recording, no space for the manifest): retrying will not help. */
export class SealError extends Error {
  override name = "SealError";
}

/**
 * Seals recording `id` (already closed and finished in the database); null when it was sealed before.
 * `fileError` says why the copy beside the file could not be written (the seal is in the database).
 */
export async function sealRecording(
  sql: Sql,
  key: SigningKey,
  nodeId: string,
  id: string | number,
  now = new Date(),
): Promise<{ manifest: Manifest; fileError: string | null } | null> {
  if (await sealOf(sql, id)) return null;
  const rec = await recordingForSeal(sql, id);
  if (!rec) throw new SealError(`recording ${id} not found`);
  const file = await hashFile(rec.path).catch((e) => {
    throw new SealError(`cannot read ${rec.path}: ${(e as Error).message}`);
  });
  const text = manifestText({
    recording_id: rec.id,
    session_id: rec.session_id,
    kind: rec.kind,
    channel: rec.channel,
    file: basename(rec.path),
    size: file.size,
    sha256: file.sha256,
    started_at: rec.started_at.toISOString(),
    ended_at: rec.ended_at?.toISOString() ?? null,
    node: nodeId,
    sealed_at: now.toISOString(),
  });
  const bytes = new TextEncoder().encode(text);
  let fileError: string | null = null;
  const sshsig = key.sshsig(bytes, MANIFEST_NAMESPACE);
  try {
    await Deno.writeTextFile(`${rec.path}.manifest`, text, { mode: 0o600 });
    await Deno.writeTextFile(`${rec.path}.manifest.sig`, sshsig, { mode: 0o600 });
  } catch (e) {
    // a full disk: the seal still goes to the database below, the copy beside the file is missing
    fileError = `cannot write ${rec.path}.manifest: ${(e as Error).message}`;
  }
  await addSeal(sql, {
    recording_id: rec.id,
    manifest: text,
    signature: key.sign(bytes),
    sshsig,
    public_key: key.publicKey.openssh,
  });
  return { manifest: parseManifest(text), fileError };
}

export type RecordingState = "verified" | "unsealed" | "broken";

export interface RecordingVerdict {
  id: string;
  sessionId: string;
  path: string;
  state: RecordingState;
  /** what is wrong (broken) or why it has no seal (unsealed) */
  problems: string[];
}

/** Checks one recording's seal and file against each other. */
export async function verifyRecording(
  sql: Sql,
  trusted: PublicSigningKey[],
  rec: RecordingForSeal,
): Promise<RecordingVerdict> {
  const v: RecordingVerdict = {
    id: rec.id,
    sessionId: rec.session_id,
    path: rec.path,
    state: "verified",
    problems: [],
  };
  const seal = await sealOf(sql, rec.id);
  // the audit chain's copy of the seal: a seal removed from the database is still known there
  const noted = await sealAuditOf(sql, rec.id);
  const broken = (p: string) => {
    v.state = "broken";
    v.problems.push(p);
  };
  if (!seal) {
    if (noted) {
      broken(`its seal was removed (audit row ${noted.id} recorded it sealed with SHA-256 ${noted.sha256})`);
      return v;
    }
    v.state = "unsealed";
    v.problems.push(rec.ended_at ? "closed without a seal" : "still recording or never closed");
    return v;
  }
  let pub: PublicSigningKey | null = null;
  try {
    const k = parsePublicSigningKey(seal.public_key);
    pub = trusted.find((t) => t.fingerprint === k.fingerprint) ?? null;
  } catch { /* reported below */ }
  if (!pub) broken(`the manifest is signed by a key that is not trusted`);
  else if (!verifySignature(pub, new TextEncoder().encode(seal.manifest), seal.signature)) {
    broken("the manifest's signature is bad (the manifest was edited)");
  }
  let m;
  try {
    m = parseManifest(seal.manifest);
  } catch (e) {
    broken(`the manifest is unreadable: ${(e as Error).message}`);
    return v;
  }
  if (noted && (noted.sha256 !== m.sha256 || noted.size !== m.size)) {
    broken(`the manifest differs from the seal recorded in audit row ${noted.id} (the seal was replaced)`);
  }
  if (m.recording_id !== rec.id || m.session_id !== rec.session_id || m.file !== basename(rec.path)) {
    broken(`the manifest is for recording ${m.recording_id} (${m.file}) of session ${m.session_id}`);
  }
  let file;
  try {
    file = await hashFile(rec.path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) broken(`the file ${rec.path} is gone (deleted)`);
    else broken(`the file cannot be read: ${(e as Error).message}`);
    return v;
  }
  if (file.size < m.size) broken(`the file is truncated: ${file.size} bytes, sealed with ${m.size}`);
  else if (file.size > m.size) broken(`the file grew: ${file.size} bytes, sealed with ${m.size}`);
  else if (file.sha256 !== m.sha256) broken("the file's content was altered (same size, SHA-256 differs)");
  const beside = await Deno.readTextFile(`${rec.path}.manifest`).catch(() => null);
  if (beside !== null && beside !== seal.manifest) {
    broken(`${rec.path}.manifest differs from the sealed manifest`);
  }
  return v;
}

/** Verifies recording `id` (looked up); null when there is no such recording. */
export async function verifyRecordingId(
  sql: Sql,
  trusted: PublicSigningKey[],
  id: string,
): Promise<RecordingVerdict | null> {
  const rec = await recordingForSeal(sql, id);
  return rec ? await verifyRecording(sql, trusted, rec) : null;
}
