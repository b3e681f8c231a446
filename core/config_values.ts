// Pure: the parsers of configuration values shared by the keys (addresses, lists, CIDRs), and the error
// every invalid value becomes, naming its key.
import type { ListenAddress, Raw } from "./config_schema.ts";

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`);
    this.name = "ConfigError";
  }
}

export function parseListen(key: string, text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new ConfigError(key, `"${text}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(key, `port ${port} out of range 1-65535`);
  const host = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]);
  return { host, port };
}

export function asList(key: string, v: Raw[string], what = "HOST:PORT"): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  throw new ConfigError(key, `expected a list of ${what}`);
}

/** an IPv4 or IPv6 CIDR, shape only */
export const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

/**
 * A list of CIDRs (a bare address is a /32 or /128), checked enough that a typo is a configuration error;
 * the proxies and the console parse them again with policy/cidr.ts.
 */
export function cidrList(key: string, v: Raw[string]): string[] {
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
