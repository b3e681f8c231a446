// Shared by the RDP e2e tests against FreeRDP's shadow server: session and audit rows, a shadow backend
// for the duration of a test, waiting for an activated connection.
import type { Sql } from "../../db/client.ts";
import { type ShadowBackend, startShadow, startXfreerdp, type XfreerdpOptions } from "./rdp_backend.ts";
import { eventually, POOL_IP, type RdpEnv } from "./rdp_env.ts";

export interface SessionRow {
  id: number;
  session_id: string;
  is_active: boolean;
  termination_reason: string | null;
  termination_detail: string | null;
  recording_size: number | null;
  ended_at: Date | null;
  metadata: Record<string, unknown>;
  server_name: string;
}

export const sessions = (sql: Sql) =>
  sql<SessionRow[]>`SELECT id, session_id, is_active, termination_reason, termination_detail, recording_size,
    ended_at, metadata, server_name FROM sessions WHERE protocol = 'rdp' ORDER BY id`;
export const audits = (sql: Sql, action: string) =>
  sql<{ details: Record<string, unknown>; success: boolean; actor: string; target: string | null }[]>`
    SELECT details, success, actor, target FROM audit_log WHERE action = ${action} ORDER BY id`;

export async function withShadow(fn: (shadow: ShadowBackend) => Promise<void>) {
  const shadow = await startShadow();
  try {
    await fn(shadow);
  } finally {
    await shadow.stop();
  }
}

export async function activated(env: RdpEnv, ms = 15_000) {
  return await eventually(
    () => env.proxy.liveConnections().find((c) => c.activated),
    ms,
    "an activated connection",
  );
}

/** The only RDP session row, once it has closed. */
export async function closedSession(env: RdpEnv, ms = 10_000): Promise<SessionRow> {
  const [s] = await eventually(
    async () => {
      const rows = await sessions(env.db.sql);
      return rows.length === 1 && !rows[0].is_active && rows;
    },
    ms,
    "the session row to close",
  );
  return s;
}

export interface HeldSessionOptions extends Omit<XfreerdpOptions, "host" | "port" | "runMs" | "until"> {
  /** how long to wait for activation */
  activatedMs?: number;
  /** run while the session is active (after activation, before the hold) */
  whileActive?: () => Promise<unknown>;
  /** keep the session open this long after activation (drawing reaches the recording) */
  holdMs?: number;
}

/** xfreerdp through the proxy's pool address: connected, activated, held for `holdMs`, then stopped. */
export async function holdSession(env: RdpEnv, o: HeldSessionOptions = {}): Promise<void> {
  const { activatedMs, whileActive, holdMs, ...client } = o;
  const c = await startXfreerdp({ host: POOL_IP, port: env.port, ...client });
  try {
    await activated(env, activatedMs);
    await whileActive?.();
    if (holdMs) await new Promise((r) => setTimeout(r, holdMs));
  } finally {
    await c.stop();
  }
}
