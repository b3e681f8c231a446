// What every connection of one SSH proxy shares: dependencies (database, clock, keys, log), the current
// policy snapshot, the live sessions, and a queue that retries database writes during an outage.
import type { RecordingEncryption, RecordingKeys } from "../../core/recording_identity.ts";
import type { LdapConfig } from "../../core/ldap/config.ts";
import type { SshAlgorithms } from "../../core/ssh_algorithms.ts";
import type { Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { isRejectedByDatabase } from "../../db/errors.ts";
import type { AuditEvent } from "../../db/audit_events.ts";
import type { Snapshot } from "../../policy/mod.ts";
import type { LineAllocator, UtmpWriter } from "../../recorder/utmp.ts";
import type { Clock } from "../../core/clock.ts";
import type { SecretKey } from "../../core/secret_box.ts";
import type { JumphostMetrics } from "../../core/metrics/jumphost_metrics.ts";
import { PreauthAggregator } from "../preauth_aggregate.ts";
import type { ProxyProtocolSettings } from "../proxy_protocol.ts";
import { AuditSpool } from "../audit_spool.ts";
import { DurableAudit } from "../durable_audit.ts";
import type { SetupLimits } from "./setup_guard.ts";
import type { SigningKey } from "../../core/signing_key.ts";
import { createRecordingSealer, type RecordingSealer } from "../recording_seal.ts";

export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface SshProxyDeps {
  /** the directory (LDAP) that checks directory users' passwords; absent = none configured */
  directory?: LdapConfig | null;
  sql: Sql;
  nodeId: string;
  /** private host keys of the jump host (OpenSSH or PEM text) */
  hostKeys: string[];
  recordingsDir: string;
  clock: Clock;
  log: Log;
  utmp: UtmpWriter | null;
  /** the appliance's private key for a server, when one is configured */
  applianceKeyFor(serverName: string): Promise<Uint8Array | null>;
  /** ms before the end of a grant to warn at; default 5 and 1 minutes */
  warningsMs?: number[];
  backendTimeoutMs?: number;
  /** SSH keepalive on both legs (tests); default: keepalive.ts */
  keepaliveMs?: number;
  /** key exchanges, ciphers and MACs of both legs (default: DEFAULT_ALGORITHMS in algorithms.ts) */
  algorithms?: SshAlgorithms;
  /** connection, denial and decision-latency counters (posted to the main isolate by the worker) */
  metrics?: JumphostMetrics;
  /** caps and timeouts of connections before authentication (defaults: SETUP_DEFAULTS in setup_guard.ts) */
  setup?: Partial<SetupLimits>;
  /** the appliance secret, which opens users' sealed TOTP secrets (loaded on first need) */
  secretKey?: () => Promise<SecretKey>;
  /**
   * where audit events wait during a database outage (a 0700 directory under the data dir; see
   * proxy/durable_audit.ts); without it they wait in the in-memory retry queue only
   */
  auditSpoolDir?: string;
  /** recordings at rest encrypted to these (config recording_encryption = age); absent or null = plain */
  recordingEncryption?: RecordingEncryption | null;
  /** opens encrypted recordings (indexing a finished session's commands) */
  recordingKeys?: RecordingKeys;
  /** a recording that cannot be written (disk full): "disconnect" (default, fail closed) or "continue" */
  onRecordingFailure?: "disconnect" | "continue";
  /** per direction of a channel without a terminal, bytes kept in its recording (0 = all; default 64 MiB) */
  streamKeepBytes?: number;
  /** bound of the spool file (default 64 MiB) */
  auditSpoolMaxBytes?: number;
  /** the appliance's signing key, which seals recordings as they close; without it they stay unsealed */
  signingKey?: () => Promise<SigningKey>;
  /** PROXY protocol v2 from load balancers (config proxy_protocol_from); absent or empty = off */
  proxyProtocol?: ProxyProtocolSettings;
  /** how long a connection waits for an access request's decision (config request_wait_minutes; default 10 min) */
  requestWaitMs?: number;
  /** how often a waiting connection looks at its request (default 1 s) */
  requestPollMs?: number;
  /** how long a sender has for its first bytes when proxyProtocol is on (default 10 s) */
  proxyHeaderTimeoutMs?: number;
}

/** Runs database writes; when one fails (database down) it is retried until it succeeds. */
export class RetryQueue {
  #pending: { what: string; fn: () => Promise<void> }[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #delay = 1000;
  constructor(
    private readonly log: Log,
    private readonly max = 10_000,
    /** a write given up because the queue was full (already logged): counted in a metric */
    private readonly onDropped: (what: string) => void = () => {},
  ) {}

  get size(): number {
    return this.#pending.length;
  }

  async run(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (e) {
      this.log.warn("database write failed; will retry", { what, error: (e as Error).message });
      if (this.#pending.length >= this.max) {
        const lost = this.#pending.shift();
        this.log.error("retry queue full; dropping oldest write", { what: lost?.what });
        if (lost) this.onDropped(lost.what);
      }
      this.#pending.push({ what, fn });
      this.#arm();
      return false;
    }
  }

  #arm(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#delay);
  }

  /** Retries everything pending in order; stops at the first failure (the database is still down). */
  async flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const next = this.#pending[0];
      try {
        await next.fn();
        this.#pending.shift();
        this.#delay = 1000;
      } catch (_e) {
        this.#delay = Math.min(this.#delay * 2, 30_000);
        this.#arm();
        return;
      }
    }
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

export interface Runtime {
  deps: SshProxyDeps;
  /** the current snapshot; null while the database cannot be read (new connections are refused) */
  snapshot(): Snapshot | null;
  retry: RetryQueue;
  lines: LineAllocator;
  /** seals a closed recording (null without a signing key) */
  seal: RecordingSealer | null;
  now(): Date;
  /** best effort: written now, or retried when the database is back */
  audit(e: AuditEvent): Promise<void>;
  /**
   * An event about a client not identified yet (a denied unknown address, failed logins): repeats per
   * source and reason are folded into one summary row per minute (see proxy/preauth_aggregate.ts).
   */
  preauthAudit(e: AuditEvent, reason: string): Promise<void>;
  /** writes the summaries of every open window now (shutdown, tests) */
  flushPreauth(): Promise<void>;
  /** stops the window timer (after flushPreauth at shutdown) */
  stop(): void;
  /** writes the audit spool to the database now if it can (tests, shutdown); true when it is empty */
  replayAudit(): Promise<boolean>;
  /** at shutdown, after stop(): a last replay, then closes the spool */
  closeAudit(): Promise<void>;
}

export function createRuntime(
  deps: SshProxyDeps,
  snapshot: () => Snapshot | null,
  lines: LineAllocator,
): Runtime {
  // an audit event dropped from a full retry queue (a long outage) is logged there and counted here
  const retry = new RetryQueue(deps.log, 10_000, (what) => {
    if (what.startsWith("audit ")) deps.metrics?.auditLost.inc({ protocol: "ssh", reason: "queue_full" });
  });
  const durable = deps.auditSpoolDir
    ? new DurableAudit({
      write: (e) => writeAudit(deps.sql, e, deps.nodeId),
      spool: AuditSpool.open(deps.auditSpoolDir, "audit-ssh", deps.auditSpoolMaxBytes),
      log: deps.log,
      onSpooled: () => deps.metrics?.auditSpooled.inc({ protocol: "ssh" }),
      onSpoolFull: () => deps.metrics?.auditLost.inc({ protocol: "ssh", reason: "spool_full" }),
      isRejected: isRejectedByDatabase,
      onRejected: () => deps.metrics?.auditLost.inc({ protocol: "ssh", reason: "rejected" }),
    })
    : null;
  const audit = async (e: AuditEvent) => {
    if (durable) return await durable.write(e);
    await retry.run(`audit ${e.action}`, () => writeAudit(deps.sql, e, deps.nodeId));
  };
  // windows run on real time, not the (possibly scaled) session clock
  const preauth = new PreauthAggregator({ sampleField: "ref" });
  const flush = (all: boolean) => Promise.all(preauth.due(Date.now(), all).map(audit)).then(() => {});
  const sweep = setInterval(() => void flush(false), 5_000);
  return {
    deps,
    snapshot,
    retry,
    lines,
    seal: deps.signingKey
      ? createRecordingSealer({
        sql: deps.sql,
        nodeId: deps.nodeId,
        key: deps.signingKey,
        audit,
        log: (m, f) => deps.log.error(m, f),
      })
      : null,
    now: () => new Date(deps.clock.now()),
    audit,
    preauthAudit(e, reason) {
      const now = preauth.add(e, reason, Date.now());
      if (now) return audit(now);
      deps.metrics?.auditAggregated.inc({ protocol: "ssh" });
      return Promise.resolve();
    },
    flushPreauth: () => flush(true),
    stop: () => clearInterval(sweep),
    replayAudit: () => durable?.replay() ?? Promise.resolve(true),
    closeAudit: () => durable?.close() ?? Promise.resolve(),
  };
}
