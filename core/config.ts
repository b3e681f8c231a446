// Configuration: flags > environment (JUMPHOST_*) > config file (JSON) > defaults.
// Pure resolution (resolveConfig) is separate from reading the file and the environment (loadConfig).
import { checkRecipient } from "./age.ts";
import { DEFAULT_NODE_LOST_AFTER_S } from "./node_health.ts";
import { isAbsolute, join, resolve } from "node:path";
import { CONVERSION_PRESET, DEFAULT_CACHE_MAX_BYTES, X264_PRESETS } from "./conversion.ts";
import {
  DEFAULT_SSH_CIPHERS,
  DEFAULT_SSH_KEX,
  DEFAULT_SSH_MACS,
  invalidAlgorithmList,
  SUPPORTED_SSH_CIPHERS,
  SUPPORTED_SSH_KEX,
  SUPPORTED_SSH_MACS,
} from "./ssh_algorithms.ts";
import { LDAP_FILE_KEYS, type LdapConfig, LdapConfigError, resolveLdapConfig } from "./ldap/config.ts";
import { OIDC_FILE_KEYS, type OidcConfig, OidcConfigError, resolveOidcConfig } from "./oidc/config.ts";

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  profile: "checkout" | "installed";
  configFile: string | null;
  dataDir: string;
  databaseUrl: string | null;
  sshListen: ListenAddress[];
  /** SSH key exchanges, ciphers and MACs of both proxy legs, in order of preference (core/ssh_algorithms.ts) */
  sshKex: string[];
  sshCiphers: string[];
  sshMacs: string[];
  rdpListen: ListenAddress[];
  webListen: ListenAddress[];
  ipPool: string | null;
  nodeId: string;
  recordingsDir: string;
  utmpFile: string | null;
  wtmpFile: string | null;
  webTlsCert: string | null;
  webTlsKey: string | null;
  conversionWorkers: number;
  /** x264 preset of RDP→MP4 conversions: faster presets convert sooner, slower ones make smaller files */
  conversionPreset: string;
  /** size cap of the MP4 cache under <data>/mp4 (MiB); the oldest videos are evicted beyond it */
  mp4CacheMaxMib: number;
  /**
   * of a command channel without a terminal (ssh -T host CMD), how many MiB each direction keeps in its
   * recording; beyond it bytes are counted and hashed, not kept (0 = keep everything)
   */
  streamRecordingMaxMib: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** audit events also go to syslog: udp://HOST:PORT, tcp://HOST:PORT or unix:///dev/log (null = off) */
  syslog: string | null;
  /** bearer token for /metrics from non-loopback addresses (null = loopback only) */
  metricsToken: string | null;
  /** the operator's certificate for RDP clients (PEM); absent = one generated on first start */
  rdpTlsCert: string | null;
  rdpTlsKey: string | null;
  /** console logins: "required" makes every console account enrol and use a TOTP second factor */
  consoleMfa: "required" | "optional";
  /**
   * a recording that cannot be written (disk full …): "disconnect" ends the session (fail closed, the
   * default), "continue" lets it go on unrecorded; both write a recording.failed audit row
   */
  onRecordingFailure: "disconnect" | "continue";
  /** recordings at rest: "age" encrypts every new recording (core/recording_identity.ts), "off" does not */
  recordingEncryption: "off" | "age";
  /** age1… X25519 recipients every encrypted recording is also readable by (the appliance's own is added) */
  recordingRecipients: string[];
  /**
   * RDP with NLA: the character between the user name and a verification code ("alice#123456"); see
   * policy/rdp_mfa_code.ts for why the code goes with the user name
   */
  rdpMfaSeparator: string;
  /**
   * seconds between signed checkpoints of the audit chain (tamper evidence); serve also signs one when it
   * stops. 0 = only at stop.
   */
  auditCheckpointInterval: number;
  /**
   * seconds without a heartbeat after which the other nodes sharing the database declare this one lost
   * (its sessions end as node_lost, its conversion jobs are requeued); default 30, 10-3600
   */
  nodeLostAfter: number;
  /** how long an SSH connection waits for an access request's decision (minutes; also how long it is pending) */
  requestWaitMinutes: number;
  /**
   * a file of OpenSSH (or PEM) public keys whose signatures count besides this appliance's own: the other
   * nodes sharing the database (tamper evidence)
   */
  trustedSigners: string | null;
  /**
   * load balancers whose PROXY protocol v2 header is believed on the SSH and RDP listeners (CIDRs, canonical);
   * empty = no header is read. A header from any other sender is refused.
   */
  proxyProtocolFrom: string[];
  /** a sender in proxyProtocolFrom must send a header ("required") or may connect without one ("optional") */
  proxyProtocol: "required" | "optional";
  /** reverse proxies in front of the console whose X-Forwarded-For is believed (CIDRs, canonical) */
  trustedProxies: string[];
  /** the directory (LDAP) users and console accounts may authenticate against (core/ldap/config.ts) */
  ldap: LdapConfig | null;
  /** single sign-on to the console with an OpenID provider (core/oidc/config.ts) */
  oidc: OidcConfig | null;
}

export const DEFAULT_RDP_MFA_SEPARATOR = "#";

/** Why a separator cannot be used, or null: one printable ASCII character that user names do not contain. */
export function invalidMfaSeparator(sep: string): string | null {
  if (sep.length !== 1 || sep < "!" || sep > "~") return "must be one printable ASCII character";
  if (/[A-Za-z0-9._\-+\\@]/.test(sep)) {
    return "must not be a letter, a digit or one of . _ - + \\ @ (they occur in user names and logins)";
  }
  return null;
}

type Raw = Record<string, string | string[] | number | boolean | null | undefined>;

interface KeySpec {
  key: keyof Config;
  file: string; // key in the JSON config file
  env: string;
  flag: string;
  list?: boolean;
}

export const KEYS: KeySpec[] = [
  { key: "dataDir", file: "data_dir", env: "JUMPHOST_DATA_DIR", flag: "data-dir" },
  { key: "databaseUrl", file: "database_url", env: "JUMPHOST_DATABASE_URL", flag: "database-url" },
  { key: "sshListen", file: "ssh_listen", env: "JUMPHOST_SSH_LISTEN", flag: "ssh-listen", list: true },
  { key: "sshKex", file: "ssh_kex", env: "JUMPHOST_SSH_KEX", flag: "ssh-kex", list: true },
  { key: "sshCiphers", file: "ssh_ciphers", env: "JUMPHOST_SSH_CIPHERS", flag: "ssh-ciphers", list: true },
  { key: "sshMacs", file: "ssh_macs", env: "JUMPHOST_SSH_MACS", flag: "ssh-macs", list: true },
  { key: "rdpListen", file: "rdp_listen", env: "JUMPHOST_RDP_LISTEN", flag: "rdp-listen", list: true },
  { key: "webListen", file: "web_listen", env: "JUMPHOST_WEB_LISTEN", flag: "web-listen", list: true },
  { key: "ipPool", file: "ip_pool", env: "JUMPHOST_IP_POOL", flag: "ip-pool" },
  { key: "nodeId", file: "node_id", env: "JUMPHOST_NODE_ID", flag: "node-id" },
  { key: "recordingsDir", file: "recordings_dir", env: "JUMPHOST_RECORDINGS_DIR", flag: "recordings-dir" },
  { key: "utmpFile", file: "utmp_file", env: "JUMPHOST_UTMP_FILE", flag: "utmp-file" },
  { key: "wtmpFile", file: "wtmp_file", env: "JUMPHOST_WTMP_FILE", flag: "wtmp-file" },
  { key: "webTlsCert", file: "web_tls_cert", env: "JUMPHOST_WEB_TLS_CERT", flag: "web-tls-cert" },
  { key: "webTlsKey", file: "web_tls_key", env: "JUMPHOST_WEB_TLS_KEY", flag: "web-tls-key" },
  {
    key: "conversionWorkers",
    file: "conversion_workers",
    env: "JUMPHOST_CONVERSION_WORKERS",
    flag: "conversion-workers",
  },
  {
    key: "conversionPreset",
    file: "conversion_preset",
    env: "JUMPHOST_CONVERSION_PRESET",
    flag: "conversion-preset",
  },
  {
    key: "trustedSigners",
    file: "trusted_signers",
    env: "JUMPHOST_TRUSTED_SIGNERS",
    flag: "trusted-signers",
  },
  {
    key: "auditCheckpointInterval",
    file: "audit_checkpoint_interval",
    env: "JUMPHOST_AUDIT_CHECKPOINT_INTERVAL",
    flag: "audit-checkpoint-interval",
  },
  {
    key: "streamRecordingMaxMib",
    file: "stream_recording_max_mib",
    env: "JUMPHOST_STREAM_RECORDING_MAX_MIB",
    flag: "stream-recording-max-mib",
  },
  {
    key: "mp4CacheMaxMib",
    file: "mp4_cache_max_mib",
    env: "JUMPHOST_MP4_CACHE_MAX_MIB",
    flag: "mp4-cache-max-mib",
  },
  {
    key: "nodeLostAfter",
    file: "node_lost_after",
    env: "JUMPHOST_NODE_LOST_AFTER",
    flag: "node-lost-after",
  },
  {
    key: "requestWaitMinutes",
    file: "request_wait_minutes",
    env: "JUMPHOST_REQUEST_WAIT_MINUTES",
    flag: "request-wait-minutes",
  },

  { key: "logLevel", file: "log_level", env: "JUMPHOST_LOG_LEVEL", flag: "log-level" },
  {
    key: "onRecordingFailure",
    file: "on_recording_failure",
    env: "JUMPHOST_ON_RECORDING_FAILURE",
    flag: "on-recording-failure",
  },
  {
    key: "recordingEncryption",
    file: "recording_encryption",
    env: "JUMPHOST_RECORDING_ENCRYPTION",
    flag: "recording-encryption",
  },
  {
    key: "recordingRecipients",
    file: "recording_recipients",
    env: "JUMPHOST_RECORDING_RECIPIENTS",
    flag: "recording-recipients",
    list: true,
  },
  {
    key: "proxyProtocolFrom",
    file: "proxy_protocol_from",
    env: "JUMPHOST_PROXY_PROTOCOL_FROM",
    flag: "proxy-protocol-from",
    list: true,
  },
  { key: "proxyProtocol", file: "proxy_protocol", env: "JUMPHOST_PROXY_PROTOCOL", flag: "proxy-protocol" },
  {
    key: "trustedProxies",
    file: "trusted_proxies",
    env: "JUMPHOST_TRUSTED_PROXIES",
    flag: "trusted-proxies",
    list: true,
  },
  // file and environment only (no command-line flag: a token on argv shows in ps)
  { key: "syslog", file: "syslog", env: "JUMPHOST_SYSLOG", flag: "syslog" },
  { key: "metricsToken", file: "metrics_token", env: "JUMPHOST_METRICS_TOKEN", flag: "metrics-token" },
  { key: "rdpTlsCert", file: "rdp_tls_cert", env: "JUMPHOST_RDP_TLS_CERT", flag: "rdp-tls-cert" },
  { key: "rdpTlsKey", file: "rdp_tls_key", env: "JUMPHOST_RDP_TLS_KEY", flag: "rdp-tls-key" },
  { key: "consoleMfa", file: "console_mfa", env: "JUMPHOST_CONSOLE_MFA", flag: "console-mfa" },
  {
    key: "rdpMfaSeparator",
    file: "rdp_mfa_separator",
    env: "JUMPHOST_RDP_MFA_SEPARATOR",
    flag: "rdp-mfa-separator",
  },
];

export interface ConfigSources {
  profile: "checkout" | "installed";
  cwd: string;
  hostname: string;
  flags: Raw;
  env: Record<string, string | undefined>;
  file: Raw;
  configFile: string | null;
}

export function parseListen(key: string, text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new ConfigError(key, `"${text}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(key, `port ${port} out of range 1-65535`);
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]);
  return { host, port };
}

function asList(key: string, v: Raw[string], what = "HOST:PORT"): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  throw new ConfigError(key, `expected a list of ${what}`);
}

const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

/**
 * A list of CIDRs (a bare address is a /32 or /128), checked enough that a typo is a configuration error;
 * the proxies and the console parse them again with policy/cidr.ts.
 */
function cidrList(key: string, v: Raw[string]): string[] {
  const list = asList(key, v ?? [], "CIDRs");
  for (const c of list) {
    const m =
      /^(?:(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?|([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)(?:\/(\d{1,3}))?)$/.exec(
        c,
      );
    const v4ok = m?.[1] !== undefined && m[1].split(".").every((o) => Number(o) <= 255) &&
      Number(m[2] ?? 32) <= 32;
    const v6ok = m?.[3] !== undefined && Number(m[4] ?? 128) <= 128;
    if (!v4ok && !v6ok) throw new ConfigError(key, `"${c}" is not a CIDR`);
  }
  return list;
}

function defaults(s: ConfigSources): Raw {
  const installed = s.profile === "installed";
  return {
    dataDir: installed ? "/var/lib/jumphost" : join(s.cwd, "data"),
    databaseUrl: null,
    sshListen: [installed ? "0.0.0.0:22" : "0.0.0.0:2222"],
    sshKex: [...DEFAULT_SSH_KEX],
    sshCiphers: [...DEFAULT_SSH_CIPHERS],
    sshMacs: [...DEFAULT_SSH_MACS],
    rdpListen: [installed ? "0.0.0.0:3389" : "0.0.0.0:33389"],
    webListen: [installed ? "0.0.0.0:8443" : "127.0.0.1:8080"],
    ipPool: null,
    nodeId: s.hostname,
    recordingsDir: null,
    utmpFile: null,
    wtmpFile: null,
    webTlsCert: null,
    webTlsKey: null,
    conversionWorkers: 2,
    conversionPreset: CONVERSION_PRESET,
    mp4CacheMaxMib: DEFAULT_CACHE_MAX_BYTES / 2 ** 20,
    streamRecordingMaxMib: 64,
    auditCheckpointInterval: 300,
    nodeLostAfter: DEFAULT_NODE_LOST_AFTER_S,
    requestWaitMinutes: 10,
    trustedSigners: null,
    logLevel: "info",
    consoleMfa: "optional",
    syslog: null,
    metricsToken: null,
    rdpTlsCert: null,
    rdpTlsKey: null,
    onRecordingFailure: "disconnect",
    rdpMfaSeparator: DEFAULT_RDP_MFA_SEPARATOR,
    proxyProtocolFrom: [],
    proxyProtocol: "required",
    trustedProxies: [],
  };
}

/** Pure: combines the sources by precedence and validates every key. */
export function resolveConfig(s: ConfigSources): Config {
  const known = new Set<string>([...KEYS.map((k) => k.file), ...LDAP_FILE_KEYS, ...OIDC_FILE_KEYS]);
  for (const k of Object.keys(s.file)) {
    if (!known.has(k)) throw new ConfigError(k, `unknown key in ${s.configFile ?? "config file"}`);
  }
  const raw: Raw = defaults(s);
  const origin: Record<string, string> = {};
  for (const spec of KEYS) {
    const candidates: [string, Raw[string]][] = [
      [`--${spec.flag}`, s.flags[spec.flag]],
      [spec.env, s.env[spec.env]],
      [spec.file, s.file[spec.file]],
    ];
    for (const [name, value] of candidates) {
      if (value !== undefined && value !== "") {
        raw[spec.key] = value;
        origin[spec.key] = name;
        break;
      }
    }
    origin[spec.key] ??= spec.file;
  }
  const name = (k: keyof Config) => origin[k] ?? k;
  const str = (k: keyof Config): string | null => {
    const v = raw[k];
    if (v === null || v === undefined) return null;
    if (typeof v !== "string") throw new ConfigError(name(k), "expected a string");
    return v;
  };
  const abs = (p: string | null) => (p === null ? null : isAbsolute(p) ? p : resolve(s.cwd, p));

  const dataDir = abs(str("dataDir"))!;
  const databaseUrl = str("databaseUrl");
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(name("databaseUrl"), "must start with postgres:// or postgresql://");
  }
  const listen = (k: "sshListen" | "rdpListen" | "webListen") => {
    const list = asList(name(k), raw[k]);
    if (list.length === 0) throw new ConfigError(name(k), "needs at least one HOST:PORT");
    return list.map((t) => parseListen(name(k), t));
  };
  const algorithms = (k: "sshKex" | "sshCiphers" | "sshMacs", supported: readonly string[]) => {
    const list = asList(name(k), raw[k], "algorithm names");
    const why = invalidAlgorithmList(list, supported);
    if (why !== null) throw new ConfigError(name(k), why);
    return list;
  };
  const sshKex = algorithms("sshKex", SUPPORTED_SSH_KEX);
  const sshCiphers = algorithms("sshCiphers", SUPPORTED_SSH_CIPHERS);
  const sshMacs = algorithms("sshMacs", SUPPORTED_SSH_MACS);
  const ipPool = str("ipPool");
  if (ipPool !== null && !CIDR.test(ipPool)) {
    throw new ConfigError(name("ipPool"), `"${ipPool}" is not a CIDR`);
  }
  const workers = Number(raw.conversionWorkers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 16) {
    throw new ConfigError(name("conversionWorkers"), "must be an integer 1-16");
  }
  const preset = String(raw.conversionPreset);
  if (!X264_PRESETS.includes(preset)) {
    throw new ConfigError(name("conversionPreset"), `must be one of ${X264_PRESETS.join(", ")}`);
  }
  const streamMib = Number(raw.streamRecordingMaxMib);
  if (!Number.isInteger(streamMib) || streamMib < 0) {
    throw new ConfigError(name("streamRecordingMaxMib"), "must be a whole number of MiB (0 = no limit)");
  }
  const cacheMib = Number(raw.mp4CacheMaxMib);
  if (!Number.isInteger(cacheMib) || cacheMib < 64 || cacheMib > 2 ** 30) {
    throw new ConfigError(name("mp4CacheMaxMib"), "must be a whole number of MiB, at least 64");
  }
  const checkpointEvery = Number(raw.auditCheckpointInterval);
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0 || checkpointEvery > 86_400) {
    throw new ConfigError(name("auditCheckpointInterval"), "must be a whole number of seconds 0-86400");
  }
  const requestWaitMinutes = Number(raw.requestWaitMinutes);
  if (!Number.isInteger(requestWaitMinutes) || requestWaitMinutes < 1 || requestWaitMinutes > 1440) {
    throw new ConfigError(name("requestWaitMinutes"), "must be a whole number of minutes 1-1440");
  }
  const nodeLostAfter = Number(raw.nodeLostAfter);
  if (!Number.isInteger(nodeLostAfter) || nodeLostAfter < 10 || nodeLostAfter > 3600) {
    throw new ConfigError(name("nodeLostAfter"), "must be a whole number of seconds 10-3600");
  }
  const logLevel = str("logLevel") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(name("logLevel"), "must be debug, info, warn or error");
  }
  const consoleMfa = str("consoleMfa") ?? "optional";
  if (consoleMfa !== "required" && consoleMfa !== "optional") {
    throw new ConfigError(name("consoleMfa"), "must be required or optional");
  }
  const nodeId = str("nodeId") ?? "node";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(name("nodeId"), "must match [A-Za-z0-9._-]{1,64}");
  }
  const cert = abs(str("webTlsCert"));
  const key = abs(str("webTlsKey"));
  if ((cert === null) !== (key === null)) {
    throw new ConfigError(
      cert === null ? name("webTlsCert") : name("webTlsKey"),
      "TLS needs both cert and key",
    );
  }
  const syslog = str("syslog");
  if (
    syslog !== null &&
    !/^(?:(?:udp|tcp):\/\/(?:\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}|unix:\/\/\/\S+)$/.test(syslog)
  ) {
    throw new ConfigError(name("syslog"), "must be udp://HOST:PORT, tcp://HOST:PORT or unix:///PATH");
  }
  const rdpCert = abs(str("rdpTlsCert"));
  const rdpKey = abs(str("rdpTlsKey"));
  if ((rdpCert === null) !== (rdpKey === null)) {
    throw new ConfigError(
      rdpCert === null ? name("rdpTlsCert") : name("rdpTlsKey"),
      "TLS needs both cert and key",
    );
  }
  const onRecordingFailure = str("onRecordingFailure") ?? "disconnect";
  if (onRecordingFailure !== "disconnect" && onRecordingFailure !== "continue") {
    throw new ConfigError(name("onRecordingFailure"), "must be disconnect or continue");
  }
  const recordingEncryption = str("recordingEncryption") ?? "off";
  if (recordingEncryption !== "off" && recordingEncryption !== "age") {
    throw new ConfigError(name("recordingEncryption"), "must be off or age");
  }
  const recordingRecipients = asList(
    name("recordingRecipients"),
    raw.recordingRecipients ?? [],
    "age1… keys",
  );
  for (const r of recordingRecipients) {
    try {
      checkRecipient(r);
    } catch (e) {
      throw new ConfigError(name("recordingRecipients"), (e as Error).message);
    }
  }
  const rdpMfaSeparator = str("rdpMfaSeparator") ?? DEFAULT_RDP_MFA_SEPARATOR;
  const badSeparator = invalidMfaSeparator(rdpMfaSeparator);
  if (badSeparator !== null) throw new ConfigError(name("rdpMfaSeparator"), badSeparator);
  const proxyProtocol = str("proxyProtocol") ?? "required";
  if (proxyProtocol !== "required" && proxyProtocol !== "optional") {
    throw new ConfigError(name("proxyProtocol"), "must be required or optional");
  }
  const metricsToken = str("metricsToken");
  if (metricsToken !== null && metricsToken.length < 16) {
    throw new ConfigError(name("metricsToken"), "must be at least 16 characters");
  }
  let ldap: LdapConfig | null;
  try {
    ldap = resolveLdapConfig(s.file, s.env, (p) => Deno.readTextFileSync(abs(p)!));
  } catch (e) {
    if (e instanceof LdapConfigError) throw new ConfigError(e.key, e.message.replace(/^.*?: .*?: /, ""));
    throw e;
  }
  let oidc: OidcConfig | null;
  try {
    oidc = resolveOidcConfig(s.file, s.env, (p) => Deno.readTextFileSync(abs(p)!));
  } catch (e) {
    if (e instanceof OidcConfigError) throw new ConfigError(e.key, e.message.replace(/^.*?: .*?: /, ""));
    throw e;
  }
  return {
    profile: s.profile,
    configFile: s.configFile,
    dataDir,
    databaseUrl,
    sshListen: listen("sshListen"),
    sshKex,
    sshCiphers,
    sshMacs,
    rdpListen: listen("rdpListen"),
    webListen: listen("webListen"),
    ipPool,
    nodeId,
    recordingsDir: abs(str("recordingsDir")) ??
      (s.profile === "installed" ? "/var/log/jumphost/recordings" : join(dataDir, "recordings")),
    utmpFile: abs(str("utmpFile")),
    wtmpFile: abs(str("wtmpFile")),
    webTlsCert: cert,
    webTlsKey: key,
    conversionWorkers: workers,
    conversionPreset: preset,
    mp4CacheMaxMib: cacheMib,
    streamRecordingMaxMib: streamMib,
    auditCheckpointInterval: checkpointEvery,
    nodeLostAfter,
    requestWaitMinutes,
    trustedSigners: abs(str("trustedSigners")),
    logLevel: logLevel as Config["logLevel"],
    syslog,
    metricsToken,
    rdpTlsCert: rdpCert,
    rdpTlsKey: rdpKey,
    consoleMfa,
    onRecordingFailure,
    recordingEncryption,
    recordingRecipients,
    rdpMfaSeparator,
    proxyProtocolFrom: cidrList(name("proxyProtocolFrom"), raw.proxyProtocolFrom),
    proxyProtocol,
    trustedProxies: cidrList(name("trustedProxies"), raw.trustedProxies),
    ldap,
    oidc,
  };
}

/** The CLI command that creates the first console admin, as this profile runs the CLI. */
export function firstAdminCommand(profile: Config["profile"]): string {
  return profile === "installed" ? "jumphost admin add admin" : "deno task cli admin add admin";
}

/** I/O: finds the config file and reads the environment, then resolves. */
export function loadConfig(flags: Raw): Config {
  const env = Deno.env.toObject();
  const profile = env.JUMPHOST_PROFILE === "installed" || !import.meta.url.startsWith("file:")
    ? "installed"
    : "checkout";
  const explicit = (flags["config"] as string | undefined) ?? env.JUMPHOST_CONFIG;
  const candidate = explicit ??
    (profile === "installed" ? "/etc/jumphost/jumphost.json" : join(Deno.cwd(), "jumphost.json"));
  let file: Raw = {};
  let configFile: string | null = null;
  try {
    const text = Deno.readTextFileSync(candidate);
    configFile = candidate;
    try {
      const parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("top level must be an object");
      }
      file = parsed as Raw;
    } catch (e) {
      throw new ConfigError("config", `${candidate} is not valid JSON (${(e as Error).message})`);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (!(e instanceof Deno.errors.NotFound) || explicit) {
      throw new ConfigError("config", `cannot read ${candidate}: ${(e as Error).message}`);
    }
  }
  return resolveConfig({
    profile,
    cwd: Deno.cwd(),
    hostname: safeHostname(),
    flags,
    env,
    file,
    configFile,
  });
}

function safeHostname(): string {
  const h = Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
  return h === "" ? "node" : h;
}
