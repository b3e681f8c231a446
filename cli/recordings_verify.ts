// jumphost recordings verify [ID] [--session S] [--allowed-keys FILE] [--json]: checks each recording
// against its signed manifest (file SHA-256 and size, signature, the seal noted in the audit chain).
// Exit 1 when one is broken; unsealed recordings (made before sealing existed, or never closed) are listed.
import { list, parseArgs, str } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { json } from "./output.ts";
import { trustedKeys } from "./trusted_keys.ts";
import { recordingForSeal, recordingsForVerify } from "../db/recording_seals.ts";
import { type RecordingVerdict, verifyRecording } from "../recorder/seal.ts";
import { resolveSession } from "./session_ref.ts";

export const VERIFY_USAGE = "jumphost recordings verify [ID] [--session S] [--allowed-keys FILE] [--json]";

export async function verifyRecordings(ctx: CommandContext, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { strings: ["session"], repeatable: ["allowed-keys"] });
  const sql = await ctx.db();
  const trusted = await trustedKeys(ctx, list(p, "allowed-keys"));
  const id = p.positionals[0];
  const session = str(p, "session");
  let recs;
  if (id !== undefined) {
    if (!/^\d{1,18}$/.test(id)) throw new CliError(`"${id}" is not a recording id`);
    const r = await recordingForSeal(sql, id);
    if (!r) throw new CliError(`no recording ${id}`);
    recs = [r];
  } else {
    recs = await recordingsForVerify(
      sql,
      session ? (await resolveSession(sql, session)).session_id : undefined,
    );
  }
  const verdicts: RecordingVerdict[] = [];
  for (const r of recs) verdicts.push(await verifyRecording(sql, trusted, r));
  const count = (s: RecordingVerdict["state"]) => verdicts.filter((v) => v.state === s).length;
  if (p.flags.json) ctx.out.line(json(verdicts));
  else {
    for (const v of verdicts) {
      if (v.state === "verified") continue;
      const line = `recording ${v.id} (session ${v.sessionId}, ${v.path}) ${v.state.toUpperCase()}: ` +
        v.problems.join("; ");
      if (v.state === "broken") ctx.out.error(line);
      else ctx.out.line(line);
    }
    ctx.out.line(
      `${verdicts.length} recording(s): ${count("verified")} verified, ${count("unsealed")} unsealed, ` +
        `${count("broken")} broken`,
    );
  }
  return count("broken") ? 1 : 0;
}
