// Pure builders of the SSH proxy's audit events; db/audit.ts writes them. The audit log gets everything
// (reason, detail, policies, source, requested target); the user is told little (see texts.ts).
import type { AuditEvent } from "../../db/audit_events.ts";

/** What is known about a connection when something is audited. */
export interface ConnFacts {
  /** short reference shown to the user and stored in the audit row, to match a complaint with a row */
  ref: string;
  sourceIp: string;
  localIp: string;
  /** the SSH user name as typed (login, login@server) */
  username: string;
  /** the jumphost user, once identified */
  userName?: string;
}

function actor(c: ConnFacts): string {
  return c.userName ?? `ip:${c.sourceIp}`;
}

function base(c: ConnFacts): Record<string, unknown> {
  return { ref: c.ref, ssh_user: c.username, proxy_ip: c.localIp };
}

export function accessDenied(
  c: ConnFacts,
  reason: string,
  detail: string,
  extra: { server?: string; login?: string; policyIds?: number[]; route?: string; requestOffered?: boolean } =
    {},
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.access_denied",
    target: extra.server ?? null,
    sourceIp: c.sourceIp,
    success: false,
    details: {
      ...base(c),
      reason,
      detail,
      login: extra.login,
      route: extra.route,
      policy_ids: extra.policyIds,
      ...(extra.requestOffered ? { request_offered: true } : {}),
    },
  };
}

export function authFailed(c: ConnFacts, attempts: { method: string; outcome: string }[]): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.auth_failed",
    target: null,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), attempts: attempts.slice(0, 20), attempt_count: attempts.length },
  };
}

/** The verification code (or a recovery code) was right: the second factor passed. */
export function mfaOk(
  c: ConnFacts,
  m: { server: string; login: string; method: "totp" | "recovery_code"; confirmedNow: boolean },
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.mfa_ok",
    target: m.server,
    sourceIp: c.sourceIp,
    success: true,
    details: { ...base(c), login: m.login, method: m.method, first_use: m.confirmedNow },
  };
}

/** A wrong, reused or malformed verification code (the code itself is never logged). */
export function mfaFailed(c: ConnFacts, m: { server: string; login: string; reason: string }): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.mfa_failed",
    target: m.server,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), login: m.login, reason: m.reason },
  };
}

export function accessGranted(
  c: ConnFacts,
  g: { server: string; login: string; route: string; policyId: number; method: string; validUntil: Date },
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.access_granted",
    target: g.server,
    sourceIp: c.sourceIp,
    success: true,
    details: {
      ...base(c),
      login: g.login,
      route: g.route,
      policy_id: g.policyId,
      auth_method: g.method,
      valid_until: g.validUntil.toISOString(),
    },
  };
}

export function backendFailed(c: ConnFacts, server: string, code: string, detail: string): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.backend_failed",
    target: server,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), code, detail },
  };
}

export function hostKeyMismatch(c: ConnFacts, server: string, pinned: string, presented: string): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.host_key_mismatch",
    target: server,
    sourceIp: c.sourceIp,
    success: false,
    details: { ...base(c), pinned, presented },
  };
}

export function sessionStarted(
  c: ConnFacts,
  s: { sessionId: string; server: string; login: string; backendAuth: string; policyId: number },
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.session_start",
    target: s.server,
    sourceIp: c.sourceIp,
    success: true,
    details: {
      ...base(c),
      session_id: s.sessionId,
      login: s.login,
      backend_auth: s.backendAuth,
      policy_id: s.policyId,
    },
  };
}

export function sessionEnded(
  c: ConnFacts,
  s: { sessionId: string; server: string; reason: string; detail: string | null; durationMs: number },
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.session_end",
    target: s.server,
    sourceIp: c.sourceIp,
    success: s.reason === "normal",
    details: {
      ...base(c),
      session_id: s.sessionId,
      reason: s.reason,
      detail: s.detail,
      duration_seconds: Math.round(s.durationMs / 1000),
    },
  };
}

export function forwardEvent(
  c: ConnFacts,
  f: {
    server: string;
    sessionId: string;
    kind: "direct" | "remote";
    host: string;
    port: number;
    allowed: boolean;
    why?: string;
    /** the session's list of destinations is full: this one is audited but not listed in its metadata */
    unlisted?: boolean;
  },
): AuditEvent {
  return {
    actor: actor(c),
    action: f.allowed ? "ssh.forward_opened" : "ssh.forward_denied",
    target: f.server,
    sourceIp: c.sourceIp,
    success: f.allowed,
    details: {
      ...base(c),
      session_id: f.sessionId,
      kind: f.kind,
      host: f.host,
      port: f.port,
      reason: f.why,
      ...(f.unlisted ? { unlisted: true } : {}),
    },
  };
}

/** A policy change took the port-forwarding flag away: the session's forwards were closed. */
export function forwardWithdrawnEvent(
  c: ConnFacts,
  f: { server: string; sessionId: string; channels: number; listeners: number; why: string },
): AuditEvent {
  return {
    actor: actor(c),
    action: "ssh.forward_withdrawn",
    target: f.server,
    sourceIp: c.sourceIp,
    success: true,
    details: {
      ...base(c),
      session_id: f.sessionId,
      channels_closed: f.channels,
      listeners_closed: f.listeners,
      reason: f.why,
    },
  };
}
