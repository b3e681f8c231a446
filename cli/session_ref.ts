// Finds the session an auditor means: its full id, its row number, or a unique prefix of its id.
import { CliError } from "./command.ts";
import type { Sql } from "../db/client.ts";
import { findSessionRef } from "../db/sessions.ts";
import { findSession, type SessionRow, sessionsWithIdPrefix } from "../db/session_queries.ts";

/** Shortest prefix accepted, so a stray character cannot pick a session by chance. */
const MIN_PREFIX = 4;

export async function resolveSession(sql: Sql, ref: string): Promise<SessionRow> {
  const exact = await findSessionRef(sql, ref);
  if (exact) {
    const row = await findSession(sql, exact.session_id);
    if (row) return row;
  }
  if (ref.length >= MIN_PREFIX) {
    const rows = await sessionsWithIdPrefix(sql, ref, 2);
    if (rows.length === 1) return rows[0];
    if (rows.length > 1) {
      throw new CliError(
        `session id prefix "${ref}" is ambiguous (${rows[0].session_id}, ${rows[1].session_id}, …)`,
      );
    }
  }
  throw new CliError(`no session "${ref}"`);
}
