// jumphost sessions file ID SHA256 --out PATH
// Writes a file a session moved by scp/SFTP, kept by its server group's keep-files option
// (recorder/file_store.ts), to PATH (0600). Every read is audited, like a recording's.
import { recordingStream } from "../recorder/recording_read.ts";
import { recordingKeys } from "../core/recording_identity.ts";
import { parseArgs, positional, str, UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { resolveSession } from "./session_ref.ts";
import { writeAudit } from "../db/audit.ts";
import { cliActor } from "../db/audit_events.ts";
import { findKeptFile, keptFilePath, keptInSession } from "../recorder/file_store.ts";

export const FILE_USAGE = "jumphost sessions file ID SHA256 --out PATH";

export async function sessionFile(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["out"] });
  const ref = positional(p, 0, "session id");
  const sha = positional(p, 1, "SHA256").toLowerCase();
  const out = str(p, "out");
  if (!out) throw new UsageError("--out PATH is required (the file's content is binary)");
  const sql = await ctx.db();
  const s = await resolveSession(sql, ref);
  if (!keptFilePath(ctx.config.recordingsDir, sha) || !keptInSession(s.metadata, sha)) {
    throw new CliError(`session ${s.session_id} has no kept file with SHA-256 ${sha}`);
  }
  let data: Uint8Array;
  try {
    const path = await findKeptFile(ctx.config.recordingsDir, sha);
    if (!path) throw new Error("it is not in the store");
    // an encrypted copy (`.age`) is decrypted with the appliance's identity
    data = new Uint8Array(
      await new Response(await recordingStream(path, recordingKeys(ctx.config.dataDir))).arrayBuffer(),
    );
  } catch (e) {
    throw new CliError(`the kept file ${sha} cannot be read: ${(e as Error).message}`);
  }
  await writeAudit(sql, {
    actor: cliActor(),
    action: "recording.download",
    target: s.session_id,
    success: true,
    details: { format: "file", sha256: sha, via: "cli" },
  }, ctx.config.nodeId);
  await Deno.writeFile(out, data, { mode: 0o600, createNew: true }).catch((e) => {
    throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
  });
  ctx.out.line(`${out}: ${data.length} bytes, SHA-256 ${sha}`);
  return 0;
}
