// LISTEN/NOTIFY channels shared by every node on one database.
//  policy_changed  — sent by triggers on every access-model table (payload: table name)
//  session_kill    — payload: JSON {session_id, actor}; the node holding the session ends it
import type { Sql } from "./client.ts";

export const CHANNELS = { policyChanged: "policy_changed", sessionKill: "session_kill" } as const;

export interface Unlisten {
  unlisten(): Promise<void>;
}

export async function listenPolicyChanged(sql: Sql, onChange: () => void): Promise<Unlisten> {
  // onlisten also fires after a reconnect, when notifications may have been missed
  return await sql.listen(CHANNELS.policyChanged, () => onChange(), () => onChange());
}

export interface KillRequest {
  session_id: string;
  actor: string;
}

export async function listenSessionKill(sql: Sql, onKill: (k: KillRequest) => void): Promise<Unlisten> {
  return await sql.listen(CHANNELS.sessionKill, (payload) => {
    try {
      const k = JSON.parse(payload) as KillRequest;
      if (typeof k.session_id === "string") onKill(k);
    } catch (_e) {
      // a malformed payload is not ours to act on
    }
  });
}

export async function notifySessionKill(sql: Sql, k: KillRequest): Promise<void> {
  await sql`SELECT pg_notify(${CHANNELS.sessionKill}, ${JSON.stringify(k)})`;
}
