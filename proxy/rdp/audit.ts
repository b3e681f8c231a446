// Audit events of the RDP proxy, built apart from writing them (pure). The client learns little from a
// refusal; these rows say everything: reason, policies evaluated, source, requested target, hints.
import type { AuditEvent } from "../../db/audit_events.ts";

/** What is known about a connection when something is audited. */
export interface AuditContext {
  sourceIp: string;
  sourcePort: number;
  localAddress: string;
  localPort: number;
  /** mstshash cookie (a user name hint) or routing token from the X.224 Connection Request. */
  cookie?: string | null;
  routingToken?: string | null;
  userName?: string;
  serverName?: string;
  sessionId?: string;
}

function base(c: AuditContext): Record<string, unknown> {
  const d: Record<string, unknown> = {
    source_port: c.sourcePort,
    local_address: c.localAddress,
    local_port: c.localPort,
  };
  if (c.cookie) d.cookie = c.cookie;
  if (c.routingToken) d.routing_token = c.routingToken;
  if (c.sessionId) d.session_id = c.sessionId;
  return d;
}

const actor = (c: AuditContext) => c.userName ?? "unknown";

export function accessDenied(
  c: AuditContext,
  reason: string,
  detail: string,
  extra: Record<string, unknown> = {},
): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.access_denied",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), reason, detail, ...extra },
  };
}

export function accessGranted(c: AuditContext, policyId: number, validUntil: Date): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.access_granted",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), policy_id: policyId, valid_until: validUntil.toISOString() },
  };
}

export function backendFailed(
  c: AuditContext,
  backend: string,
  error: string,
  reason = "unreachable",
): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.backend_failed",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), backend, reason, error },
  };
}

/** NLA at the jump failed (wrong password, no NT hash yet, malformed CredSSP) or was throttled. */
export function nlaFailed(
  c: AuditContext,
  action: "rdp.nla_failed" | "rdp.nla_throttled",
  reason: string,
  detail: string,
): AuditEvent {
  return {
    actor: actor(c),
    action,
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), reason, detail },
  };
}

/** The verification code typed after the user name was right (the code itself is never logged). */
export function mfaOk(c: AuditContext, method: "totp" | "recovery_code", firstUse: boolean): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.mfa_ok",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), method, first_use: firstUse },
  };
}

/** A wrong, reused or malformed verification code, or a locked factor (never the code). */
export function mfaFailed(c: AuditContext, reason: string): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.mfa_failed",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), reason },
  };
}

/** A vaulted credential was handed to the backend (never the password itself). */
export function credentialUsed(c: AuditContext, login: string, via: "nla" | "client_info"): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.credential_used",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), login, via },
  };
}

/** The backend's certificate is not the pinned one (or could not be checked): no session. */
export function certRefused(
  c: AuditContext,
  backend: string,
  sha256: string | null,
  error: string,
): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.cert_mismatch",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), backend, sha256, error },
  };
}

export function protocolError(
  c: AuditContext,
  phase: string,
  side: "client" | "server" | null,
  error: { code?: string; message: string },
): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.protocol_error",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), phase, side, code: error.code ?? null, error: error.message },
  };
}

export function sessionStarted(c: AuditContext, connection: number, joined: boolean): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.session_start",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), connection, joined_existing_session: joined },
  };
}

export function sessionEnded(
  c: AuditContext,
  reason: string,
  detail: string | null,
  extra: Record<string, unknown>,
): AuditEvent {
  return {
    actor: actor(c),
    action: "rdp.session_end",
    target: c.serverName ?? null,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), reason, detail, ...extra },
  };
}
