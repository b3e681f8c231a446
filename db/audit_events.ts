// The catalogue of audit actions, and pure builders for events. Emitting is db/audit.ts's job.

export const AUDIT_ACTIONS = [
  // access model changes (CLI and console)
  "user.create",
  "user.update",
  "user.disable",
  "user.enable",
  "user.delete",
  "usergroup.create",
  "usergroup.delete",
  "usergroup.update",
  "usergroup.member_add",
  "usergroup.member_remove",
  "server.create",
  "server.update",
  "server.delete",
  "server.host_key_pinned",
  "server.host_key_reset",
  "server.rdp_cert_pinned",
  "server.rdp_cert_reset",
  "server.backend_key_set",
  "server.backend_key_removed",
  "server.credential_set",
  "server.credential_removed",
  "group.create",
  "group.delete",
  "group.update",
  "group.member_add",
  "group.member_remove",
  "policy.create",
  "policy.revoke",
  "policy.delete",
  "pool.allocate",
  // just-in-time access requests (db/access_requests.ts): asked, one approval of N, approved (its policy is
  // created in the same transaction), denied, expired, withdrawn by the asker, and a refused approve/deny
  // (self-approval, not an approver, lengthening …)
  "request.created",
  "request.approval",
  "request.approved",
  "request.denied",
  "request.expired",
  "request.cancelled",
  "request.refused",
  "pool.release",
  // TOTP second factors (jump users and console accounts; details.owner says which)
  "mfa.totp_enrolled",
  "mfa.totp_confirmed",
  "mfa.totp_reset",
  "mfa.recovery_code_used",
  "mfa.required_set",
  // console passkeys (WebAuthn): added or removed on the account page, or all removed by an admin
  "mfa.passkey_added",
  "mfa.passkey_removed",
  // a passkey whose signature counter went backwards (a cloned authenticator): refused
  "mfa.passkey_counter",
  // access decisions and sessions (proxies)
  "access.check",
  "ssh.access_granted",
  "ssh.access_denied",
  "ssh.auth_failed",
  "ssh.mfa_ok",
  "ssh.mfa_failed",
  "ssh.backend_failed",
  "ssh.host_key_mismatch",
  "ssh.forward_denied",
  "ssh.forward_opened",
  "ssh.forward_withdrawn",
  "ssh.session_start",
  "ssh.session_end",
  // a PROXY protocol header from a sender outside proxy_protocol_from, or none (or a broken one) from a
  // balancer that must send one: the connection was closed before the proxy's protocol began
  "ssh.proxy_header_refused",
  "rdp.proxy_header_refused",
  "rdp.access_granted",
  "rdp.access_denied",
  "rdp.backend_failed",
  "rdp.cert_mismatch",
  "rdp.protocol_error",
  // NLA: a vaulted credential injected toward a server; a failed or throttled logon at the jump
  "rdp.credential_used",
  "rdp.nla_failed",
  "rdp.nla_throttled",
  // the verification code typed after the RDP user name (NLA)
  "rdp.mfa_ok",
  "rdp.mfa_failed",
  "rdp.session_start",
  "rdp.session_end",
  "session.kill",
  // outbound webhooks registered or removed (url without its query, events)
  "webhook.create",
  "webhook.delete",
  // console
  "console.login",
  "console.login_failed",
  "console.logout",
  "console.locked",
  "console.mfa_failed",
  "console.user_create",
  "console.user_delete",
  // a directory (LDAP) console account got the role its groups map to now
  "console.user_role",
  "console.password_reset",
  "console.password_change",
  // the end-user portal: jump users logging in with their jump password (and code)
  "portal.login",
  "portal.login_failed",
  "portal.logout",
  "portal.locked",
  "portal.mfa_failed",
  // recordings
  "recording.convert",
  "recording.convert_cancel",
  "recording.download",
  // a recording could not be written (disk full …): the session was disconnected or went on unrecorded
  "recording.failed",
  // a closed recording was sealed by its signed manifest (sha256 and size in details: the chain holds them)
  "recording.sealed",
  // a recording could not be sealed (its file unreadable …): it stays unsealed
  "recording.seal_failed",
  // a session's recordings, manifests and audit rows were exported as a bundle that verifies offline
  "session.export",
  // system
  "system.start",
  "system.stop",
  "system.worker_restart",
  "system.service_started",
  // the database was unreachable (written once it is back: down_ms, restarted for the embedded cluster)
  "system.database_outage",
  // several nodes on one database: a silent node declared lost by another (its sessions closed as node_lost,
  // its conversion jobs requeued: ids in details), and a lost node that came back (it ended those sessions)
  "node.lost",
  "node.returned",
] as const;

export type AuditAction = typeof AUDIT_ACTIONS[number];

export interface AuditEvent {
  actor: string;
  action: AuditAction;
  target?: string | null;
  sourceIp?: string | null;
  success: boolean;
  details?: Record<string, unknown>;
  /** when it happened (default: when the row is written); events written late keep their own time */
  at?: Date;
  /** a uuid given when it happened: a row with the same id is written once (replays are idempotent) */
  id?: string;
}

/** Actor name for changes made from the command line on this machine. */
export function cliActor(): string {
  const user = Deno.env.get("SUDO_USER") ?? Deno.env.get("USER") ?? "root";
  return `cli:${user}`;
}

/** Who made a change and, for console changes, the client address the request came from. */
export interface Actor {
  actor: string;
  sourceIp?: string | null;
}

/** A bare actor name (CLI callers: no source address) or an Actor carrying one. */
export type ActorRef = string | Actor;

export function actorName(by: ActorRef): string {
  return typeof by === "string" ? by : by.actor;
}

export function changeEvent(
  by: ActorRef,
  action: AuditAction,
  target: string,
  details: Record<string, unknown> = {},
): AuditEvent {
  const sourceIp = typeof by === "string" ? null : by.sourceIp ?? null;
  return { actor: actorName(by), action, target, sourceIp, success: true, details };
}
