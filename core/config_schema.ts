// What can be configured: the resolved Config, and for each key where it is read from (JSON config file key,
// JUMPHOST_* environment variable, command-line flag). Resolution and validation: config.ts.
import type { LdapConfig } from "./ldap/config.ts";
import type { OidcConfig } from "./oidc/config.ts";

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

export type Raw = Record<string, string | string[] | number | boolean | null | undefined>;

export interface KeySpec {
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
