// The access model as the pure policy engine sees it. Rows from db/ are mapped to these types;
import type { WeeklyWindow } from "./schedule.ts";
// nothing here knows about SQL, sockets or the clock.

export type Protocol = "ssh" | "rdp";
export const PROTOCOLS: readonly Protocol[] = ["ssh", "rdp"];

export function isProtocol(value: string): value is Protocol {
  return (PROTOCOLS as readonly string[]).includes(value);
}

/**
 * RDP security a server's clients may use: "nla" requires CredSSP (the user proven at the jump), "tls"
 * never offers NLA, "any" uses NLA when the client offers it and admits TLS-only clients where the source
 * address identifies exactly one user.
 */
export type RdpSecurity = "nla" | "tls" | "any";
export const RDP_SECURITIES: readonly RdpSecurity[] = ["nla", "tls", "any"];
export const DEFAULT_RDP_SECURITY: RdpSecurity = "any";

export function isRdpSecurity(value: string): value is RdpSecurity {
  return (RDP_SECURITIES as readonly string[]).includes(value);
}

/**
 * Whether a server may receive the password a user typed at the jump (SSH password/keyboard-interactive
 * towards the backend, RDP's NLA logon). On unless an administrator turns it off: servers that share the
 * jump's accounts keep working; where the jump password must stay at the jump, turn it off per server.
 */
export const DEFAULT_PASSWORD_PASSTHROUGH = true;

export interface SourceCidr {
  /** CIDR text as stored, e.g. "10.0.0.0/24" or "192.0.2.7/32" or "2001:db8::/64". */
  cidr: string;
  shared: boolean;
}

export interface User {
  id: number;
  name: string;
  active: boolean;
  sourceCidrs: SourceCidr[];
  /** ids of user groups this user belongs to */
  groupIds: number[];
  hasPassword: boolean;
  sshKeyFingerprints: string[];
  /** a second factor is demanded of this user at the SSH prompt */
  mfaRequired?: boolean;
}

export interface Server {
  id: number;
  name: string;
  address: string;
  sshPort: number;
  rdpPort: number;
  protocols: Protocol[];
  poolIp: string | null;
  /** a dedicated RDP listener port on the appliance that routes to this server */
  rdpListenPort: number | null;
  rdpSecurity: RdpSecurity;
  /** the password typed at the jump may be handed to this backend (see DEFAULT_PASSWORD_PASSTHROUGH) */
  passwordPassthrough: boolean;
  active: boolean;
  /** ids of server groups this server belongs to */
  groupIds: number[];
  /** every SSH login to this server needs a second factor */
  requireMfa?: boolean;
}

export type PolicySubject = { kind: "user"; userId: number } | { kind: "user_group"; userGroupId: number };

export type PolicyScope =
  | { kind: "server_group"; serverGroupId: number }
  | { kind: "server"; serverId: number };

export interface Policy {
  id: number;
  subject: PolicySubject;
  scope: PolicyScope;
  /** protocols granted; a "one protocol of a server" grant is a server scope with one protocol */
  protocols: Protocol[];
  /** allowed backend logins; empty = any */
  logins: string[];
  portForwarding: boolean;
  validFrom: Date;
  validUntil: Date;
  revokedAt: Date | null;
  /** logins under this grant need a second factor */
  requireMfa?: boolean;
  /** recurring weekly windows (policy/schedule.ts); empty or absent = any time between the dates */
  schedules?: WeeklyWindow[];
}

export interface AccessRequest {
  sourceIp: string;
  protocol: Protocol;
  /** server name or id; exactly one should be given */
  serverId?: number;
  serverName?: string;
  /** requested backend login; undefined = not known yet (RDP, or SSH before the username is parsed) */
  login?: string;
}

export type DenyReason =
  | "unknown_source_ip"
  | "user_inactive"
  | "unknown_server"
  | "server_inactive"
  | "protocol_not_enabled"
  | "no_policy"
  | "not_yet_valid"
  | "expired"
  | "revoked"
  | "wrong_protocol"
  | "login_not_allowed"
  | "outside_schedule";

export const DENY_REASONS: readonly DenyReason[] = [
  "unknown_source_ip",
  "user_inactive",
  "unknown_server",
  "server_inactive",
  "protocol_not_enabled",
  "no_policy",
  "not_yet_valid",
  "expired",
  "revoked",
  "wrong_protocol",
  "login_not_allowed",
  "outside_schedule",
];

export interface Allow {
  allowed: true;
  userId: number;
  userName: string;
  serverId: number;
  serverName: string;
  /** the policy that decided (the one with the latest expiry among the most permissive) */
  policyId: number;
  /** every policy that matched; a revoke of any of them is re-evaluated by the proxies */
  policyIds: number[];
  /** union of allowed logins over matching policies; empty = any */
  logins: string[];
  portForwarding: boolean;
  validUntil: Date;
  /** a matching policy, the server or the user demands a second factor */
  requireMfa: boolean;
}

export interface Deny {
  allowed: false;
  reason: DenyReason;
  /** human explanation for the audit log and `access check`; never shown to end users */
  detail: string;
  userId?: number;
  userName?: string;
  serverId?: number;
  serverName?: string;
  /** policies evaluated that came closest (for the audit log) */
  policyIds: number[];
}

export type Decision = Allow | Deny;
