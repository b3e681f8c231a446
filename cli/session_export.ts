// jumphost sessions export ID --out DIR [--allowed-keys FILE]: a bundle that verifies offline with
// ssh-keygen, openssl and sha256sum (see export_verify_md.ts): the session's recordings with their signed
// manifests, its audit rows within the chain up to a signed checkpoint, the public key and VERIFY.md.
import { basename, join } from "node:path";
import { list, parseArgs, positional, str, UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { json } from "./output.ts";
import { resolveSession } from "./session_ref.ts";
import { trustedKeys } from "./trusted_keys.ts";
import { verifyMd } from "./export_verify_md.ts";
import { loadSigningKey, type SigningKey } from "../core/signing_key.ts";
import { cliActor } from "../db/audit_events.ts";
import { writeAudit } from "../db/audit.ts";
import {
  canonicalRowsBetween,
  chainRowsByIds,
  checkpointById,
  sessionAuditRowIds,
} from "../db/audit_chain.ts";
import { toHex } from "../db/audit_chain_encoding.ts";
import { writeCheckpoint } from "../db/audit_checkpoint.ts";
import { recordingsForVerify, sealOf } from "../db/recording_seals.ts";
import { hashFile, verifyRecording } from "../recorder/seal.ts";
import type { Sql } from "../db/client.ts";

export const EXPORT_USAGE = "jumphost sessions export ID --out DIR [--allowed-keys FILE] [--json]";
/** the chain segment a bundle carries is bounded: beyond this the session's rows are too far apart */
const MAX_SEGMENT_ROWS = 500_000;

const enc = new TextEncoder();

export async function exportSession(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["out"], repeatable: ["allowed-keys"] });
  const ref = positional(p, 0, "ID");
  const out = str(p, "out");
  if (!out) throw new UsageError("--out DIR is required");
  const sql = await ctx.db();
  const session = await resolveSession(sql, ref);
  const sid = session.session_id;
  try {
    for await (const _ of Deno.readDir(out)) throw new CliError(`${out} is not empty`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = await loadSigningKey(ctx.config.dataDir);
  const trusted = await trustedKeys(ctx, list(p, "allowed-keys"));
  await Deno.mkdir(join(out, "recordings"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(join(out, "audit", "rows"), { recursive: true, mode: 0o700 });
  const write = (rel: string, data: string | Uint8Array) =>
    Deno.writeFile(join(out, rel), typeof data === "string" ? enc.encode(data) : data, { mode: 0o600 });

  // recordings, as stored, with their seals
  const warnings: string[] = [];
  let failed = false; // a broken or missing recording: exit 1 (an unsealed one is a warning only)
  const recs: { file: string; sealed: boolean }[] = [];
  for (const rec of await recordingsForVerify(sql, sid)) {
    const file = basename(rec.path);
    const verdict = await verifyRecording(sql, trusted, rec);
    if (verdict.state !== "verified") {
      warnings.push(`recording ${rec.id} ${verdict.state}: ${verdict.problems.join("; ")}`);
      if (verdict.state === "broken") failed = true;
    }
    try {
      await Deno.copyFile(rec.path, join(out, "recordings", file));
    } catch (e) {
      warnings.push(`recording ${rec.id}: not copied: ${(e as Error).message}`);
      failed = true;
      continue;
    }
    const seal = await sealOf(sql, rec.id);
    if (seal) {
      await write(`recordings/${file}.manifest`, seal.manifest);
      await write(`recordings/${file}.manifest.sig`, seal.sshsig);
      await write(`recordings/${file}.manifest.ed25519`, seal.signature);
    }
    recs.push({ file, sealed: seal !== null });
  }

  // the export is itself audited, then a checkpoint covers everything up to it
  await writeAudit(sql, {
    actor: cliActor(),
    action: "session.export",
    target: sid,
    success: true,
    details: { session_id: sid, recordings: recs.length, via: "cli" },
  }, ctx.config.nodeId);
  // signed by this key now, whoever signed the last one (VERIFY.md checks it with signing_key.pub.pem)
  const cpId = await writeCheckpoint(sql, key, ctx.config.nodeId, { force: true });
  const cp = cpId ? await checkpointById(sql, cpId) : null;
  if (!cp) throw new CliError("no audit checkpoint could be signed");
  const sessionRows = (await sessionAuditRowIds(sql, sid)).filter((id) => BigInt(id) <= BigInt(cp.lastId));
  const segment = sessionRows.length ? { from: sessionRows[0], to: cp.lastId } : null;
  if (segment) await writeSegment(sql, segment, write);
  await write("audit/SESSION_ROWS", sessionRows.map((id) => `${id}\n`).join(""));
  await write("audit/checkpoint.txt", cp.statement);
  await write("audit/checkpoint.txt.ed25519", cp.signature);

  await write("signing_key.pub", key.publicKey.openssh + "\n");
  await write("signing_key.pub.pem", key.publicKey.pem);
  await write(
    "allowed_signers",
    trusted.map((k) => `jumphost namespaces="jumphost-export,jumphost-recording" ${k.openssh}\n`).join(""),
  );
  const exportedAt = new Date();
  await write(
    "VERIFY.md",
    verifyMd({
      sessionId: sid,
      exportedAt,
      node: ctx.config.nodeId,
      fingerprint: key.publicKey.fingerprint,
      recordings: recs,
      sessionRows,
      segment,
    }),
  );
  await signBundle(out, key);
  if (p.flags.json) {
    ctx.out.line(json({ session: sid, out, recordings: recs, audit_rows: sessionRows.length, warnings }));
  } else {
    for (const w of warnings) ctx.out.error(`warning: ${w}`);
    ctx.out.line(
      `exported session ${sid} to ${out}: ${recs.length} recording(s), ${sessionRows.length} audit row(s); ` +
        `see ${join(out, "VERIFY.md")}`,
    );
  }
  return failed ? 1 : 0;
}

async function writeSegment(
  sql: Sql,
  seg: { from: string; to: string },
  write: (rel: string, data: string | Uint8Array) => Promise<void>,
): Promise<void> {
  let chain = "", readable = "", n = 0;
  let from = seg.from;
  for (;;) {
    const batch = await canonicalRowsBetween(sql, from, seg.to);
    if (batch.length === 0) break;
    n += batch.length;
    if (n > MAX_SEGMENT_ROWS) {
      throw new CliError(`the session's audit rows span more than ${MAX_SEGMENT_ROWS} rows of the chain`);
    }
    const rows = new Map((await chainRowsByIds(sql, batch.map((r) => r.id))).map((r) => [r.id, r]));
    for (const r of batch) {
      await write(`audit/rows/${r.id}.txt`, r.bytes);
      chain += `${toHex(r.hash)}  rows/${r.id}.txt\n`;
      const c = rows.get(r.id)!;
      readable += JSON.stringify({
        id: r.id,
        at: c.at,
        actor: c.actor,
        action: c.action,
        target: c.target,
        source_ip: c.sourceIp,
        success: c.success,
        details: JSON.parse(c.details),
        node_id: c.nodeId,
        prev_hash: toHex(c.prevHash),
        hash: toHex(c.hash),
      }) + "\n";
    }
    from = String(BigInt(batch[batch.length - 1].id) + 1n);
  }
  await write("audit/CHAIN.sha256", chain);
  await write("audit/rows.jsonl", readable);
}

/** SHA256SUMS of every file, then its signatures. */
async function signBundle(out: string, key: SigningKey): Promise<void> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(out, rel))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(r);
      else if (!r.startsWith("SHA256SUMS")) files.push(r);
    }
  };
  await walk("");
  files.sort();
  let sums = "";
  for (const f of files) sums += `${(await hashFile(join(out, f))).sha256}  ${f}\n`;
  const bytes = enc.encode(sums);
  await Deno.writeFile(join(out, "SHA256SUMS"), bytes, { mode: 0o600 });
  await Deno.writeTextFile(join(out, "SHA256SUMS.sig"), key.sshsig(bytes, "jumphost-export"), {
    mode: 0o600,
  });
  await Deno.writeFile(join(out, "SHA256SUMS.ed25519"), key.sign(bytes), { mode: 0o600 });
}
