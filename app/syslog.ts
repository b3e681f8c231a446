// RFC 5424 syslog messages for audit events, and the syslog target syntax. Pure: no sockets, no clock.
import type { AuditRow } from "../db/audit.ts";

export class SyslogError extends Error {
  constructor(readonly code: "bad_target" | "send", message: string) {
    super(message);
    this.name = "SyslogError";
  }
}

export type SyslogTarget =
  | { transport: "udp" | "tcp"; host: string; port: number }
  | { transport: "unix"; path: string };

/** udp://HOST:PORT, tcp://HOST:PORT ([v6]:PORT allowed) or unix:///path/to/socket */
export function parseSyslogTarget(text: string): SyslogTarget {
  const unix = /^unix:\/\/(\/\S+)$/.exec(text);
  if (unix) return { transport: "unix", path: unix[1] };
  const m = /^(udp|tcp):\/\/(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) {
    throw new SyslogError("bad_target", `"${text}" is not udp://HOST:PORT, tcp://HOST:PORT or unix:///PATH`);
  }
  const port = Number(m[4]);
  if (port < 1 || port > 65535) throw new SyslogError("bad_target", `port ${port} out of range 1-65535`);
  return { transport: m[1] as "udp" | "tcp", host: m[2] ?? m[3], port };
}

export const FACILITY = { auth: 4, authpriv: 10, local0: 16 } as const;
export const SEVERITY = { error: 3, warning: 4, notice: 5, info: 6 } as const;

export interface SyslogMessage {
  facility: number;
  severity: number;
  time: Date | null;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD-ID → params; SD-IDs without "@" are reserved by IANA, so ours carry an enterprise number */
  data: [string, [string, string][]][];
  msg: string;
}

/** header fields are PRINTUSASCII (33-126) with a maximum length; empty becomes the NILVALUE "-" */
function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean === "" ? "-" : clean;
}

/** SD-NAME: PRINTUSASCII except '=', ' ', ']', '"'; 1-32 characters */
function sdName(s: string): string {
  const clean = s.replace(/[^\x21-\x7e]|[=\]"]/g, "_").slice(0, 32);
  return clean === "" ? "_" : clean;
}

/** PARAM-VALUE: '"', '\' and ']' must be escaped with a backslash */
function sdValue(s: string): string {
  return s.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** RFC 3339 with at most 6 fraction digits, as section 6.2.3 requires; Date has milliseconds */
function timestamp(t: Date | null): string {
  return t === null || Number.isNaN(t.getTime()) ? "-" : t.toISOString();
}

const BOM = "\ufeff";

/** Cuts UTF-8 bytes at `max` without splitting a character. */
function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** One RFC 5424 message as bytes, at most `maxBytes` long (the free-form MSG is cut first). */
export function formatRfc5424(m: SyslogMessage, maxBytes = 8192): Uint8Array {
  const pri = Math.max(0, Math.min(23, m.facility | 0)) * 8 + Math.max(0, Math.min(7, m.severity | 0));
  const header = [
    `<${pri}>1`,
    timestamp(m.time),
    headerField(m.hostname, 255),
    headerField(m.appName, 48),
    headerField(m.procId, 128),
    headerField(m.msgId, 32),
  ].join(" ");
  const sd = m.data.length === 0
    ? "-"
    : m.data.map(([id, params]) =>
      `[${sdName(id)}${params.map(([k, v]) => ` ${sdName(k)}="${sdValue(v)}"`).join("")}]`
    ).join("");
  const enc = new TextEncoder();
  const head = enc.encode(`${header} ${sd}`);
  if (m.msg === "") return truncateUtf8(head, maxBytes);
  const body = enc.encode(` ${BOM}${m.msg}`);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return truncateUtf8(out, maxBytes);
}

/** RFC 6587 octet counting, for stream transports: "LEN SP MSG" */
export function frameOctetCounted(msg: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`${msg.length} `);
  const out = new Uint8Array(prefix.length + msg.length);
  out.set(prefix);
  out.set(msg, prefix.length);
  return out;
}

/** SD-ID of our structured data. 32473 is the enterprise number RFC 5612 reserves for documentation. */
export const AUDIT_SD_ID = "jumphost@32473";

/**
 * An audit row as a syslog message: facility authpriv (security/authorisation messages), severity
 * warning for failures and denials, informational otherwise; the action is the MSGID, so collectors
 * can filter without parsing the text.
 */
export function auditMessage(row: AuditRow, hostname: string, procId: string): SyslogMessage {
  const params: [string, string][] = [
    ["id", String(row.id)],
    ["actor", row.actor],
    ["success", row.success ? "true" : "false"],
  ];
  if (row.target !== null) params.push(["target", row.target]);
  if (row.source_ip !== null) params.push(["src", row.source_ip]);
  if (row.node_id !== null) params.push(["node", row.node_id]);
  const what = `${row.action} by ${row.actor}${row.target !== null ? ` on ${row.target}` : ""}` +
    `${row.source_ip !== null ? ` from ${row.source_ip}` : ""}: ${row.success ? "ok" : "FAILED"}`;
  const details = Object.keys(row.details ?? {}).length > 0 ? ` ${JSON.stringify(row.details)}` : "";
  return {
    facility: FACILITY.authpriv,
    severity: row.success ? SEVERITY.info : SEVERITY.warning,
    time: row.at,
    hostname,
    appName: "jumphost",
    procId,
    msgId: row.action,
    data: [[AUDIT_SD_ID, params]],
    msg: what + details,
  };
}
