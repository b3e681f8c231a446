// What every proxied connection shares with the proxy that accepted it.
import type { RecordingEncryption } from "../../core/recording_identity.ts";
import type { JumphostMetrics } from "../../core/metrics/jumphost_metrics.ts";
import type { AuditEvent } from "../../db/audit_events.ts";
import type { Logger } from "../../core/log.ts";
import type { Snapshot } from "../../policy/mod.ts";
import type { Clock } from "../../core/clock.ts";
import type { LiveConnection, SessionRegistry } from "./session_registry.ts";
import type { TlsMaterial } from "./tls.ts";
import type { CertPins } from "./backend_cert.ts";
import type { NlaSteps } from "./nla_steps.ts";
import type { FactorOwner, SecondFactorResult } from "../../db/totp.ts";

/** TOTP second factors of jump users (db/totp.ts), as the RDP connection uses them. */
export interface RdpSecondFactors {
  /** Whether the user has a factor (pending or confirmed). */
  has(owner: FactorOwner): Promise<boolean>;
  /** db/totp.ts verifySecondFactor: once per code, lockout per factor; "unreadable" without the secret. */
  verify(owner: FactorOwner, code: string, now: Date): Promise<SecondFactorResult>;
}

export interface Timeouts {
  /** From accept to a complete X.224 Connection Request. */
  connectionRequestMs: number;
  backendConnectMs: number;
  /** Each of: backend Connection Confirm, backend TLS, client TLS. */
  handshakeStepMs: number;
  /** How long final PDUs may flush before the sockets are destroyed. */
  closeGraceMs: number;
  /** The client's whole CredSSP exchange (mstsc may first wait for the user to accept our certificate). */
  nlaMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  connectionRequestMs: 10_000,
  backendConnectMs: 5_000,
  handshakeStepMs: 10_000,
  closeGraceMs: 1_000,
  nlaMs: 60_000,
};

export interface ProxyContext {
  snapshots: { get(): Snapshot | null };
  tls: TlsMaterial;
  /** Pinned backend certificates (trust on first use). */
  certPins: CertPins;
  registry: SessionRegistry;
  /** Write an audit row (fire and forget; failures are logged). */
  audit(e: AuditEvent): void;
  log: Logger;
  clock: Clock;
  recordingsDir: string;
  /** recordings at rest encrypted to these (config recording_encryption = age); absent or null = plain */
  recordingEncryption?: RecordingEncryption | null;
  /** a recording that cannot be written: end the connection (default) or let it go on unrecorded */
  onRecordingFailure?: "disconnect" | "continue";
  timeouts: Timeouts;
  /** Connection, denial and decision-latency counters, when the worker reports metrics. */
  metrics?: JumphostMetrics;
  /** CredSSP on both legs; without it no client is offered NLA. */
  nla?: NlaSteps;
  /** The server credential vault (db/server_credentials.ts credentialsFor). */
  vault?: {
    credentialsFor(
      serverId: number,
      login?: string,
    ): Promise<
      { ok: true; credentials: { login: string; password: string }[] } | { ok: false; detail: string }
    >;
  };
  /** Second factors; without it a connection where one is demanded or enrolled is refused (fail closed). */
  mfa?: RdpSecondFactors;
  /** The separator between the NLA user name and a verification code (config rdp_mfa_separator). */
  mfaSeparator: string;
  /** Watch a live connection for kill, revoke and expiry; returns the unwatch function. */
  track(c: LiveConnection): () => void;
}
