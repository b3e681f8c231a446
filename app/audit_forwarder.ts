// Forwards audit events to syslog by following audit_log in id order. Reading committed rows (rather than
// hooking writeAudit) sees events from every isolate and process (proxy workers, CLI, console) and never
// forwards an event whose transaction rolled back. Delivery is at-least-once: the database is the queue,
// the cursor is saved in the data directory, and an unreachable collector only delays delivery.
import { join } from "node:path";
import type { Sql } from "../db/client.ts";
import { auditRowsAfter, maxAuditId } from "../db/audit_sink.ts";
import type { Logger } from "../core/log.ts";
import type { Config } from "../core/config.ts";
import { auditMessage, formatRfc5424, parseSyslogTarget } from "./syslog.ts";
import { openSyslogSender, type SyslogSender } from "./syslog_transport.ts";

/**
 * Ids are assigned at insert and become visible at commit, so a smaller id can appear after a larger one.
 * `low`: every id ≤ low is settled. Ids above it that were handled are in `seen`; a missing id is waited
 * for until `graceMs` after it was first noticed (a rolled-back insert leaves a hole forever).
 */
export interface Cursor {
  low: number;
  seen: Set<number>;
  missingSince: Map<number, number>;
}

export function newCursor(low: number): Cursor {
  return { low, seen: new Set(), missingSince: new Map() };
}

/** Pure: records handled ids and moves `low` as far as holes allow. */
export function advanceCursor(c: Cursor, handled: number[], now: number, graceMs: number): Cursor {
  const seen = new Set(c.seen);
  for (const id of handled) if (id > c.low) seen.add(id);
  const missingSince = new Map(c.missingSince);
  const top = Math.max(c.low, ...seen);
  let low = c.low;
  for (let id = c.low + 1; id <= top; id++) {
    if (seen.has(id)) {
      low = id;
      continue;
    }
    const since = missingSince.get(id);
    if (since === undefined) {
      // note every hole below `top` now, so holes noticed together expire together
      for (let j = id; j <= top; j++) if (!seen.has(j) && !missingSince.has(j)) missingSince.set(j, now);
      break;
    }
    if (now - since < graceMs) break;
    low = id;
  }
  for (const id of seen) if (id <= low) seen.delete(id);
  for (const id of missingSince.keys()) if (id <= low) missingSince.delete(id);
  return { low, seen, missingSince };
}

/** Which events this node forwards: its own, and node-less ones (CLI changes made on this machine). */
export function forwardsRow(row: { node_id: string | null }, nodeId: string): boolean {
  return row.node_id === null || row.node_id === nodeId;
}

export interface ForwarderDeps {
  sql: Sql;
  config: Pick<Config, "syslog" | "dataDir" | "nodeId">;
  log: Logger;
  /** counts failed sends (e.g. JumphostMetrics.syslogErrors) */
  onSendError?: () => void;
  pollMs?: number;
  graceMs?: number;
  sender?: SyslogSender;
  hostname?: string;
}

export interface AuditForwarder {
  name: string;
  stop(): Promise<void>;
  /** resolves after the next complete poll (tests) */
  drained(): Promise<void>;
}

function readCursorFile(file: string): number | null {
  try {
    const n = Number(Deno.readTextFileSync(file).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function writeCursorFile(file: string, low: number): void {
  const tmp = `${file}.tmp`;
  Deno.writeTextFileSync(tmp, `${low}\n`, { mode: 0o600 });
  Deno.renameSync(tmp, file);
}

export async function startAuditForwarder(d: ForwarderDeps): Promise<AuditForwarder> {
  const log = d.log.child("syslog");
  if (!d.config.syslog) {
    log.debug("syslog forwarding off (no syslog target configured)");
    return { name: "syslog", stop: () => Promise.resolve(), drained: () => Promise.resolve() };
  }
  const target = parseSyslogTarget(d.config.syslog);
  const sender = d.sender ?? await openSyslogSender(target);
  const cursorFile = join(d.config.dataDir, "syslog.cursor");
  // first start: begin at the present (a collector is not flooded with history)
  let cursor = newCursor(readCursorFile(cursorFile) ?? await maxAuditId(d.sql));
  const pollMs = d.pollMs ?? 1000;
  const graceMs = d.graceMs ?? 60_000;
  const hostname = d.hostname ?? d.config.nodeId;
  let stopping = false;
  let failing = false;
  let waiters: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const poll = async () => {
    const rows = await auditRowsAfter(d.sql, cursor.low);
    const handled: number[] = [];
    for (const row of rows) {
      if (cursor.seen.has(row.id)) continue;
      if (forwardsRow(row, d.config.nodeId)) {
        await sender.send(formatRfc5424(auditMessage(row, hostname, String(Deno.pid))));
      }
      handled.push(row.id);
    }
    cursor = advanceCursor(cursor, handled, Date.now(), graceMs);
    if (handled.length > 0 || rows.length === 0) writeCursorFile(cursorFile, cursor.low);
    if (failing) log.info("syslog delivery resumed", { target: d.config.syslog });
    failing = false;
    return rows.length;
  };

  const loop = async () => {
    timer = null;
    let more = 0;
    try {
      more = await poll();
    } catch (e) {
      d.onSendError?.();
      // one line when delivery starts failing, not one per second
      if (!failing) log.warn("syslog delivery failing; will retry", { error: (e as Error).message });
      failing = true;
    }
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
    if (!stopping) {
      timer = setTimeout(() => {
        running = loop();
      }, more >= 500 ? 0 : pollMs);
    }
  };
  let running: Promise<void> = loop();
  log.info("forwarding audit events to syslog", { target: d.config.syslog, from_id: cursor.low });
  return {
    name: "syslog",
    drained: () => new Promise<void>((r) => waiters.push(r)),
    async stop() {
      stopping = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
      await sender.close();
    },
  };
}
