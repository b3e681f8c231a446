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
import { type Config, KEYS, type Raw } from "./config_schema.ts";
import { asList, CIDR, cidrList, ConfigError, parseListen } from "./config_values.ts";

export type { Config, ListenAddress } from "./config_schema.ts";
export { ConfigError } from "./config_values.ts";

export const DEFAULT_RDP_MFA_SEPARATOR = "#";

/** Why a separator cannot be used, or null: one printable ASCII character that user names do not contain. */
export function invalidMfaSeparator(sep: string): string | null {
  if (sep.length !== 1 || sep < "!" || sep > "~") return "must be one printable ASCII character";
  if (/[A-Za-z0-9._\-+\\@]/.test(sep)) {
    return "must not be a letter, a digit or one of . _ - + \\ @ (they occur in user names and logins)";
  }
  return null;
}

export interface ConfigSources {
  profile: "checkout" | "installed";
  cwd: string;
  hostname: string;
  flags: Raw;
  env: Record<string, string | undefined>;
  file: Raw;
  configFile: string | null;
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
