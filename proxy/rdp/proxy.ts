// The RDP proxy core, in-process (the worker runs one; tests run it directly): listeners, policy
// snapshot, session registry, kill/revoke/expiry enforcement, and one ProxiedConnection per socket.
import type { RecordingEncryption } from "../../core/recording_identity.ts";
import type { JumphostMetrics } from "../../core/metrics/jumphost_metrics.ts";
import type net from "node:net";
import type { ListenAddress } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { isRejectedByDatabase } from "../../db/errors.ts";
import type { AuditEvent } from "../../db/audit_events.ts";
import { listenSessionKill, type Unlisten } from "../../db/notify.ts";
import { closeOrphanedSessions } from "../../db/sessions.ts";
import { checkRdpCertPin } from "../../db/rdp_cert_pins.ts";
import { createSnapshotCache, type SnapshotCacheOptions } from "../../db/snapshot_cache.ts";
import { isKnownSource, type Snapshot } from "../../policy/mod.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { ProxiedConnection } from "./connection.ts";
import { plainIp } from "./admission.ts";
import { sourceKey } from "../source_key.ts";
import { Enforcer } from "./enforcement.ts";
import { Listeners } from "./listener.ts";
import { DEFAULT_TIMEOUTS, type ProxyContext, type Timeouts } from "./proxy_context.ts";
import { SessionRegistry } from "./session_registry.ts";
import { AuditSink, type AuditSinkDeps } from "../audit_sink.ts";
import { AuditSpool, spoolDir } from "../audit_spool.ts";
import { DurableAudit, stampEvent } from "../durable_audit.ts";
import { loadOrCreateCertificate } from "./tls.ts";
import { loadApplianceKey } from "../../core/appliance_key.ts";
import { ntHashFor } from "../../db/user_nt_hash.ts";
import { credentialsFor } from "../../db/server_credentials.ts";
import {
  clearNlaUserFailures,
  DEFAULT_NLA_THROTTLE,
  nlaBlock,
  type NlaThrottleRules,
  recordNlaFailure,
} from "../../db/nla_throttle.ts";
import { createNlaSteps } from "./nla_legs.ts";
import { totpFactorOf, verifySecondFactor } from "../../db/totp.ts";
import { DEFAULT_RDP_MFA_SEPARATOR } from "../../core/config.ts";
import { loadSigningKey, type SigningKey } from "../../core/signing_key.ts";
import { createRecordingSealer } from "../recording_seal.ts";
import { createIndexPrebuilder } from "../../recorder/rdp_replay/index_prebuild.ts";
import { GateSlots, passProxyGate, proxyRefusalEvent } from "../proxy_gate.ts";
import type { ProxyProtocolSettings } from "../proxy_protocol.ts";

export interface RdpProxyDeps {
  sql: Sql;
  nodeId: string;
  listen: ListenAddress[];
  dataDir: string;
  recordingsDir: string;
  /** recordings at rest encrypted to these (config recording_encryption = age); absent or null = plain */
  recordingEncryption?: RecordingEncryption | null;
  /** a recording that cannot be written (disk full): "disconnect" (default, fail closed) or "continue" */
  onRecordingFailure?: "disconnect" | "continue";
  /** build each closed recording's seek index in a worker (default true; benchmarks turn it off) */
  prebuildIndexes?: boolean;
  log: Logger;
  clock?: Clock;
  /** Operator-provided certificate and key (PEM); otherwise <dataDir>/rdp/tls_{cert,key}.pem. */
  tlsCertPath?: string | null;
  tlsKeyPath?: string | null;
  /** Connections within this time of a session's last one join it (default 10 s). */
  dedupeWindowMs?: number;
  timeouts?: Partial<Timeouts>;
  snapshotCache?: SnapshotCacheOptions;
  /** Connections still in X.224/TLS setup beyond this are dropped at accept (default 256). */
  maxPendingSetups?: number;
  /** Connections in setup from one source address beyond this are dropped at accept (default 32). */
  maxPendingSetupsPerSource?: number;
  /** further setups allowed only for sources inside a user's source CIDR (default 64) */
  knownSourceReserve?: number;
  /** Bounds of the audit queue and the pre-identification aggregation (tests). */
  auditSink?: Partial<
    Pick<AuditSinkDeps, "concurrency" | "maxQueued" | "backpressureAt" | "preauth" | "sweepMs">
  >;
  metrics?: JumphostMetrics;
  /** bound of the audit spool under the data dir (default 64 MiB; see proxy/durable_audit.ts) */
  auditSpoolMaxBytes?: number;
  /** Failed NLA logons per user and per source before a temporary block. */
  nlaThrottle?: NlaThrottleRules;
  /** config rdp_mfa_separator (default "#") */
  mfaSeparator?: string;
  /** PROXY protocol v2 from load balancers (config proxy_protocol_from); absent or empty = off */
  proxyProtocol?: ProxyProtocolSettings;
  /** how long a sender has for its first bytes when proxyProtocol is on (default 10 s) */
  proxyHeaderTimeoutMs?: number;
}

export interface RdpProxy {
  /** The configured addresses as bound (port 0 resolved). */
  addresses: ListenAddress[];
  /** Dedicated per-server ports currently bound. */
  dedicatedPorts(): number[];
  /** Connections being set up or relayed. */
  activeConnections(): number;
  /** Connections that joined a session, with whether the desktop is being relayed yet. */
  liveConnections(): { sessionId: string; activated: boolean }[];
  /**
   * Resolves when every audit row queued so far is written (tests). Summaries of folded pre-identification
   * events are written first, as if their minute had ended.
   */
  auditsSettled(): Promise<void>;
  /** Audit rows waiting to be written. */
  pendingAudits(): number;
  /** Loads the certificate again (operator replaced it); new connections use it, live ones keep theirs. */
  reloadCertificate(paths: { certPath: string | null; keyPath: string | null }): Promise<string>;
  /** A new rdp_mfa_separator (configuration reload); connections from now on use it. */
  setMfaSeparator(sep: string): void;
  stop(): Promise<void>;
}

export async function createRdpProxy(deps: RdpProxyDeps): Promise<RdpProxy> {
  const log = deps.log;
  const clock = deps.clock ?? systemClock;
  const tls = await loadOrCreateCertificate({
    dataDir: deps.dataDir,
    certPath: deps.tlsCertPath,
    keyPath: deps.tlsKeyPath,
    log: (m, f) => log.info(m, f),
  });
  const orphans = await closeOrphanedSessions(deps.sql, deps.nodeId, "rdp", "RDP proxy restarted");
  if (orphans.length) log.warn("closed RDP sessions left open by a previous run", { sessions: orphans });

  // bounded: rows are written a few at a time from a bounded queue, and the events of clients not
  // identified yet (actor "unknown": garbage, protocol errors, unknown addresses) are folded per source,
  // reason and minute, so a flood can neither pile up pending writes nor fill the audit table
  // during a database outage, rows go to a local fsync'd spool and are written in order once it is back
  const durable = new DurableAudit({
    write: (e) => writeAudit(deps.sql, e, deps.nodeId),
    spool: AuditSpool.open(spoolDir(deps.dataDir), "audit-rdp", deps.auditSpoolMaxBytes),
    log,
    onSpooled: () => deps.metrics?.auditSpooled.inc({ protocol: "rdp" }),
    onSpoolFull: () => deps.metrics?.auditLost.inc({ protocol: "rdp", reason: "spool_full" }),
    isRejected: isRejectedByDatabase,
    onRejected: () => deps.metrics?.auditLost.inc({ protocol: "rdp", reason: "rejected" }),
  });
  const sink = new AuditSink({
    write: (e) => durable.write(e),
    log,
    now: () => clock.now(),
    ...deps.auditSink,
    onLost: (_e, reason) => deps.metrics?.auditLost.inc({ protocol: "rdp", reason }),
    onAggregated: () => deps.metrics?.auditAggregated.inc({ protocol: "rdp" }),
  });
  const audit = (event: AuditEvent) => {
    const e = stampEvent(event); // the time it happened, however long it waits
    if (e.actor !== "unknown") return void sink.write(e);
    const d = e.details ?? {};
    sink.preauth(e, [d.reason, d.phase, d.code].filter((x) => x != null).join(":"));
  };
  const snapshots = createSnapshotCache(deps.sql, {
    log: (m, f) => log.warn(m, f),
    now: () => clock.now(),
    ...deps.snapshotCache,
  });
  await settleWithin(snapshots.ready, 5000); // without a database, connections are refused (fail closed)
  let signing: Promise<SigningKey> | null = null;
  const indexes = deps.prebuildIndexes === false
    ? null
    : createIndexPrebuilder(deps.dataDir, (m, f) => log.warn(m, f));
  const registry = new SessionRegistry({
    sql: deps.sql,
    nodeId: deps.nodeId,
    windowMs: deps.dedupeWindowMs ?? 10_000,
    audit,
    seal: createRecordingSealer({
      sql: deps.sql,
      nodeId: deps.nodeId,
      key: () => (signing ??= loadSigningKey(deps.dataDir).catch((e) => {
        signing = null; // not cached: the disk may recover
        throw e;
      })),
      audit,
      log: (m, f) => log.error(m, f),
    }),
    recordingClosed: indexes ? (id, path) => indexes.add(path, id) : undefined,
    log: (m, f) => log.error(m, f),
  });
  const enforcer = new Enforcer(clock, snapshots);
  // the appliance secret opens NT hashes (NLA at the jump) and vaulted passwords; without it no client is
  // offered NLA and servers that require it refuse every client (fail closed)
  const secret = await loadApplianceKey(deps.dataDir).catch((e) => {
    log.error("RDP NLA is off: cannot load the appliance key", { error: (e as Error).message });
    return null;
  });
  const now = () => new Date(clock.now());
  const nla = secret
    ? createNlaSteps({
      mfaSeparator: () => ctx.mfaSeparator,
      ntHash: async (jumpUser) => {
        const r = await ntHashFor(deps.sql, secret, jumpUser);
        return r.ok ? { ok: true, userName: r.userName, ntHash: r.ntHash } : r;
      },
      blocked: (a) => nlaBlock(deps.sql, a, now()),
      failed: async (a) => {
        const started = await recordNlaFailure(deps.sql, a, now(), deps.nlaThrottle ?? DEFAULT_NLA_THROTTLE);
        if (started.length) {
          log.warn("RDP NLA logons blocked", { user: a.userName, source: a.sourceIp, started });
        }
      },
      succeeded: (u) => clearNlaUserFailures(deps.sql, u),
    })
    : undefined;
  const connections = new Map<ProxiedConnection, Promise<void>>();
  const ctx: ProxyContext = {
    metrics: deps.metrics,
    snapshots,
    tls,
    certPins: { check: (id, sha256) => checkRdpCertPin(deps.sql, id, sha256, "rdp-proxy") },
    registry,
    audit,
    log,
    clock,
    recordingsDir: deps.recordingsDir,
    recordingEncryption: deps.recordingEncryption,
    onRecordingFailure: deps.onRecordingFailure,
    timeouts: { ...DEFAULT_TIMEOUTS, ...deps.timeouts },
    track: (c) => enforcer.track(c),
    nla,
    vault: secret
      ? { credentialsFor: (id, login) => credentialsFor(deps.sql, secret, id, login) }
      : undefined,
    mfa: {
      has: async (owner) => (await totpFactorOf(deps.sql, owner)) !== null,
      verify: (owner, code, at) =>
        secret
          ? verifySecondFactor(deps.sql, secret, owner, code, at, { allowPending: true })
          : Promise.resolve({ ok: false, reason: "unreadable" }),
    },
    mfaSeparator: deps.mfaSeparator ?? DEFAULT_RDP_MFA_SEPARATOR,
  };
  let stopping = false;
  const maxPending = deps.maxPendingSetups ?? 256;
  const maxPerSource = deps.maxPendingSetupsPerSource ?? 32;
  const knownReserve = deps.knownSourceReserve ?? 64;
  let refused = 0;
  const onConnection = (sock: net.Socket) => {
    if (stopping) return void sock.destroy();
    // sockets that never finish the handshake each hold a timer for seconds: bound how many may wait, in
    // all and from one source (so one flooding address cannot keep everyone else out)
    const source = plainIp(sock.remoteAddress);
    const slot = sourceKey(source);
    let pending = 0, fromSource = 0;
    for (const c of connections.keys()) {
      if (c.sessionId !== null) continue;
      pending++;
      if (sourceKey(c.sourceIp) === slot) fromSource++;
    }
    // sources in some user's CIDR may use a reserve that a flood from elsewhere cannot take
    const cap = maxPending + (isKnownSource(snapshots.get(), source) ? knownReserve : 0);
    const over = pending >= cap ? "setup_cap" : fromSource >= maxPerSource ? "setup_cap_source" : null;
    if (over) {
      sock.destroy();
      deps.metrics?.setupRefused.inc({ protocol: "rdp", reason: over });
      if (refused++ % 100 === 0) {
        log.warn("RDP connection refused: too many connections in setup", {
          pending,
          source,
          from_source: fromSource,
          refused,
        });
      }
      return;
    }
    const c = new ProxiedConnection(sock, ctx);
    connections.set(c, c.run().finally(() => connections.delete(c)));
  };
  // behind a load balancer: its PROXY header is read first, so the setup caps above, admission, identity
  // and routing by the dialled pool IP or port all see the client's addresses (proxy/proxy_gate.ts)
  const gating = new Set<net.Socket>();
  const gateSlots = new GateSlots();
  const onAccepted = (sock: net.Socket) => {
    const pp = deps.proxyProtocol;
    if (stopping || !pp || pp.from.length === 0) return onConnection(sock);
    const listener = `${plainIp(sock.localAddress)}:${sock.localPort}`;
    sock.on("error", () => {}); // a reset while the header is read ends in the gate's "closed"
    gating.add(sock);
    void passProxyGate(sock, pp, deps.proxyHeaderTimeoutMs, gateSlots).then((r) => {
      gating.delete(sock);
      if (r.ok) return onConnection(sock);
      sock.destroy();
      deps.metrics?.setupRefused.inc({ protocol: "rdp", reason: r.reason });
      const e = proxyRefusalEvent("rdp", r, listener);
      if (e) audit(e);
      else if (r.reason === "proxy_gate_full" && refused++ % 100 === 0) {
        log.warn("RDP connection refused: too many connections waiting for a PROXY header", {
          source: r.peer,
        });
      }
    });
  };
  const listeners = new Listeners(onAccepted, (m, f) => log.warn(m, f));
  const kill: Unlisten = await listenSessionKill(deps.sql, (k) => {
    if (registry.terminateSession(k.session_id, "killed", `killed by ${k.actor}`)) {
      log.info("RDP session killed", { session: k.session_id, actor: k.actor });
    }
  });
  const hosts = [...new Set(deps.listen.map((a) => a.host))];
  const configuredPorts = new Set(deps.listen.map((a) => a.port));
  let syncing = Promise.resolve();
  const onSnapshot = (s: Snapshot) => {
    enforcer.recheckAll();
    const ports = new Set([...s.serversByRdpPort.keys()].filter((p) => !configuredPorts.has(p)));
    syncing = syncing.then(() => listeners.syncDedicated(hosts, ports));
  };
  snapshots.onChange(onSnapshot);
  const flush = setInterval(() => void registry.flush(), 5000);

  let addresses: ListenAddress[];
  try {
    addresses = [];
    for (const a of deps.listen) addresses.push(await listeners.bind(a));
    const s = snapshots.get();
    if (s) onSnapshot(s);
    await syncing;
  } catch (e) {
    clearInterval(flush);
    await listeners.closeAll();
    await kill.unlisten().catch(() => {});
    await snapshots.close();
    throw e;
  }
  log.info("RDP proxy listening", { addresses, certificate: tls.certPath });

  return {
    addresses,
    dedicatedPorts: () => listeners.dedicatedPorts,
    activeConnections: () => connections.size,
    liveConnections: () =>
      [...connections.keys()].filter((c) => c.sessionId !== null).map((c) => ({
        sessionId: c.sessionId!,
        activated: c.activated,
      })),
    auditsSettled: () =>
      sink.flushWindows().then(() => sink.settled()).then(() => durable.replay()).then(() => {}),
    pendingAudits: () => sink.pending,
    async reloadCertificate(paths) {
      ctx.tls = await loadOrCreateCertificate({
        dataDir: deps.dataDir,
        certPath: paths.certPath,
        keyPath: paths.keyPath,
        log: (m, f) => log.info(m, f),
      });
      log.info("RDP certificate reloaded", { certificate: ctx.tls.certPath });
      return ctx.tls.certPath;
    },
    setMfaSeparator(sep) {
      ctx.mfaSeparator = sep;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(flush);
      await syncing;
      // net.Server.close() resolves only once its connections are gone: end them while it waits
      const closing = listeners.closeAll();
      for (const sock of gating) sock.destroy();
      for (const c of connections.keys()) c.terminate("shutdown", "jumphost is stopping");
      await settleWithin(Promise.all(connections.values()), 5000);
      await closing;
      await registry.closeAll("shutdown", "jumphost is stopping");
      await indexes?.stop();
      await kill.unlisten().catch(() => {});
      await snapshots.close();
      await sink.close();
      await durable.close();
    },
  };
}

/** Wait for `p` but at most `ms` (the timer never outlives the wait). */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
