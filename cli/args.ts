// Minimal argv parser: positionals, --flag value, --flag=value, repeatable flags, boolean switches.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | string[] | boolean>;
}

export interface ArgSpec {
  /** flags that take no value */
  booleans?: string[];
  /** flags that may be given several times (collected into arrays) */
  repeatable?: string[];
  /** every flag this command accepts besides booleans/repeatable (others are rejected) */
  strings?: string[];
}

export const GLOBAL_FLAGS = [
  "config",
  "data-dir",
  "database-url",
  "ssh-listen",
  "ssh-kex",
  "ssh-ciphers",
  "ssh-macs",
  "rdp-listen",
  "web-listen",
  "ip-pool",
  "node-id",
  "recordings-dir",
  "utmp-file",
  "wtmp-file",
  "web-tls-cert",
  "web-tls-key",
  "rdp-tls-cert",
  "rdp-tls-key",
  "conversion-workers",
  "log-level",
  "on-recording-failure",
  "rdp-mfa-separator",
  "audit-checkpoint-interval",
  "node-lost-after",
  "request-wait-minutes",
  "trusted-signers",
  "stream-recording-max-mib",
];

export function parseArgs(argv: string[], spec: ArgSpec = {}): Parsed {
  const booleans = new Set([...(spec.booleans ?? []), "json", "help"]);
  const repeatable = new Set([...(spec.repeatable ?? []), "ssh-listen", "rdp-listen", "web-listen"]);
  const strings = new Set([...(spec.strings ?? []), ...GLOBAL_FLAGS]);
  const out: Parsed = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (booleans.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.flags[name] = true;
      continue;
    }
    if (!repeatable.has(name) && !strings.has(name)) throw new UsageError(`unknown option --${name}`);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (repeatable.has(name)) {
      const prev = out.flags[name];
      out.flags[name] = Array.isArray(prev) ? [...prev, value] : [value];
    } else {
      if (name in out.flags) throw new UsageError(`--${name} given twice`);
      out.flags[name] = value;
    }
  }
  return out;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new UsageError(`--${name} needs a value`);
  return v;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function positional(p: Parsed, index: number, what: string): string {
  const v = p.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

export function int(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be an integer ${min}-${max}`);
  }
  return Number(v);
}
