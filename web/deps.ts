// What the console needs from the running program. Passed to createApp; nothing is a module global.
import type { LdapConfig } from "../core/ldap/config.ts";
import type { OidcClient } from "./oidc/client.ts";
import type { Sql } from "../db/client.ts";
import type { ConsoleSession, SessionLimits } from "../db/console_sessions.ts";
import type { AccountLockRule } from "../db/console_users.ts";
import type { SourceThrottleRule } from "../db/console_throttle.ts";
import type { MetricsHub } from "../core/metrics/registry.ts";
import type { SecretKey } from "../core/secret_box.ts";
import type { ReservedAddress } from "../policy/ip_pool.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface ListenerStatus {
  /** e.g. "ssh", "rdp", "web" */
  name: string;
  /** HOST:PORT */
  address: string;
  state: "up" | "down" | "starting";
  detail?: string;
}

/** The database as serve's probe sees it (app/db_watch.ts). */
export interface DbHealth {
  up: boolean;
  /** when the outage began; null while up */
  since: Date | null;
  /** why the last probe failed; null while up */
  error: string | null;
  /** restarts of the embedded PostgreSQL by serve */
  restarts: number;
}

export interface WebDeps {
  sql: Sql;
  nodeId: string;
  /** config node_lost_after: when the Nodes page calls a silent node lost (default 30) */
  nodeLostAfterS?: number;
  /** config request_wait_minutes: how long an access request made in the portal stays pending (default 10) */
  requestWaitMinutes?: number;
  /** the directory (LDAP) console accounts may log in with (config ldap_*); absent = none */
  directory?: LdapConfig | null;
  /** single sign-on with an OpenID provider (config oidc_*; web/oidc/client.ts); absent = none */
  oidc?: OidcClient | null;
  log(level: LogLevel, message: string): void;
  listenerStatus(): ListenerStatus[];
  /**
   * ends a live session (by sessions.session_id) wherever it runs, e.g. by notifySessionKill; false when
   * it was not active. `actor` is who asked (console:NAME), for the proxy's log.
   */
  killSession(sessionId: string, actor: string): Promise<boolean>;
  /** the clock; tests drive idle and absolute timeouts with it */
  now?: () => Date;
  /** set the Secure flag (and the __Host- prefix) on cookies: true when served over TLS */
  secureCookies?: boolean;
  limits?: Partial<AuthLimits>;
  /** recordings are only read below this directory */
  recordingsDir?: string;
  /** serves /healthz (with database reachability) and /metrics from the appliance's metrics hub */
  ops?: { hub: MetricsHub; metricsToken: string | null };
  /** converted MP4s are only served from below this directory (dataDir/mp4) */
  mp4Dir?: string;
  /** the seek indexes of RDP recordings are cached here (dataDir/rdp_index; recorder/rdp_replay) */
  rdpIndexDir?: string;
  /** the configured pool for per-server proxy IPs ("auto" allocation), if any */
  ipPool?: string | null;
  /** addresses no pool IP may be: the machine's own and the configured ones (app/pool_reserved.ts) */
  reservedPoolIps?: () => Promise<ReservedAddress[]>;
  /** the appliance's data directory: a deleted server's backend key is removed from below it */
  dataDir?: string;
  /** config trusted_signers: public keys of other nodes whose signatures count (tamper evidence) */
  trustedSigners?: string | null;
  /** shown on the login page while no console admin exists (default: `jumphost admin add admin`) */
  firstAdminCommand?: string;
  /** console_mfa: "required" sends every account without an active TOTP factor to enrol first */
  consoleMfa?: "required" | "optional";
  /**
   * the appliance secret (seals NT hashes and vaulted server passwords); default: loaded from (created
   * under) dataDir on first need
   */
  secretKey?: () => Promise<SecretKey>;
  /** the database as serve's probe sees it: a banner on every page during an outage */
  dbHealth?: () => DbHealth;
  /** config trusted_proxies: reverse proxies whose X-Forwarded-For names the client (CIDRs) */
  trustedProxies?: string[];
}

export interface AuthLimits extends SessionLimits {
  account: AccountLockRule;
  source: SourceThrottleRule;
  /** how often a long-lived response (live view) re-checks that its console session is still valid */
  recheckMs: number;
}

/** Hono environment: per-request variables set by the middleware. */
export interface AppEnv {
  Bindings: { remoteAddr?: { hostname?: string } };
  Variables: {
    session: ConsoleSession;
    clientIp: string | null;
    cspNonce: string;
    /** set during a database outage: the banner says since when */
    dbDownSince: Date | null;
    /** the session may reach only its account page until it enrols a second factor (mfa_gate.ts) */
    mfaHeld?: boolean;
  };
}
