// Pure checks for form fields, so a form shows every problem at once; the store re-checks on write.
import { normalizeCidr, PolicyInputError } from "../policy/mod.ts";
import { parseSshPublicKey, SshKeyError } from "../policy/ssh_key.ts";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function nameError(v: string): string | null {
  if (v.trim() === "") return "required";
  return NAME_RE.test(v.trim())
    ? null
    : "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";
}

export function emailError(v: string): string | null {
  return v.trim() === "" || /^[^@\s]+@[^@\s]+$/.test(v.trim()) ? null : "not an email address";
}

export interface SourceIp {
  cidr: string;
  shared: boolean;
}

/** One source per line: "10.0.0.0/24" or "192.0.2.7" (a /32), optionally followed by "shared". */
export function parseSourceLines(lines: string[]): { ips: SourceIp[]; error: string | null } {
  const ips: SourceIp[] = [];
  const bad: string[] = [];
  for (const line of lines) {
    const [addr, flag, ...extra] = line.split(/\s+/);
    if (extra.length || (flag !== undefined && flag !== "shared")) {
      bad.push(`"${line}": write an address or CIDR, optionally followed by "shared"`);
      continue;
    }
    try {
      ips.push({ cidr: normalizeCidr(addr, { strict: true }), shared: flag === "shared" });
    } catch (e) {
      if (!(e instanceof PolicyInputError)) throw e;
      bad.push(e.message);
    }
  }
  const seen = new Set<string>();
  for (const ip of ips) {
    if (seen.has(ip.cidr)) bad.push(`${ip.cidr} is listed twice`);
    seen.add(ip.cidr);
  }
  return { ips, error: bad.length ? bad.join("; ") : null };
}

export interface KeyInfo {
  line: string;
  type: string;
  fingerprint: string;
  comment: string | null;
}

/** One OpenSSH public key per line. */
export function parseKeyLines(lines: string[]): { keys: KeyInfo[]; error: string | null } {
  const keys: KeyInfo[] = [];
  const bad: string[] = [];
  lines.forEach((line, i) => {
    try {
      const k = parseSshPublicKey(line);
      keys.push({ line: k.line, type: k.type, fingerprint: k.fingerprint, comment: k.comment });
    } catch (e) {
      if (!(e instanceof SshKeyError)) throw e;
      bad.push(`line ${i + 1}: ${e.message}`);
    }
  });
  return { keys, error: bad.length ? bad.join("; ") : null };
}

export function portError(v: string, required = false): string | null {
  if (v.trim() === "") return required ? "required" : null;
  return /^\d{1,5}$/.test(v.trim()) && +v >= 1 && +v <= 65535 ? null : "a port number 1-65535";
}
