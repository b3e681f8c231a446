// jumphost doctor: one line per check (configuration, database, listen addresses, pool IPs, ffmpeg, free
// space for recordings, console certificate, the single sign-on provider, the nodes sharing the database:
// clock skew against the database and a version mix). Exit code 1 when any check fails.
import { bool, parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import type { Config } from "../core/config.ts";
import { json } from "./output.ts";
import { openDb } from "../db/open.ts";
import { loadMigrations } from "../db/migrate.ts";
import { appliedMigrations } from "../db/ops_stats.ts";
import { listServers } from "../db/servers.ts";
import { listNodes } from "../db/nodes.ts";
import { judgeCluster, nodeHealth } from "../core/node_health.ts";
import type { Sql } from "../db/client.ts";
import { listAddresses, probeListen } from "../app/net_probe.ts";
import {
  checkCertificate,
  checkDataDir,
  checkFfmpeg,
  checkFreeSpace,
  type CheckLine,
  checkSingleSignOn,
  judgePool,
  listenLines,
  sshAlgorithmLines,
  sshCryptoLine,
} from "../app/doctor_checks.ts";

function redact(url: string): string {
  // several hosts (failover) are not one URL to the URL parser: mask the password in the text itself
  const m = /^(postgres(?:ql)?:\/\/[^:@/?#]*):[^@/?#]*@/.exec(url);
  return m ? url.replace(/^postgres(?:ql)?:\/\/[^@/?#]*@/, `${m[1]}:***@`) : url;
}

/** Opens the database without migrating; the caller closes it. */
async function databaseLine(
  config: Config,
): Promise<{ line: CheckLine; sql: Sql | null; close(): Promise<void> }> {
  const where = config.databaseUrl ? redact(config.databaseUrl) : `embedded cluster in ${config.dataDir}/pg`;
  let db;
  try {
    db = await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      max: 2,
      appName: "jumphost-doctor",
      migrate: false,
    });
  } catch (e) {
    return {
      line: { status: "fail", check: "database", detail: `${where}: ${(e as Error).message.split("\n")[0]}` },
      sql: null,
      close: () => Promise.resolve(),
    };
  }
  const close = () => db.close({ stopLocal: true });
  try {
    const [applied, all] = await Promise.all([appliedMigrations(db.sql), loadMigrations()]);
    const pending = all.filter((m) => !applied.includes(m.version));
    const unknown = applied.filter((v) => !all.some((m) => m.version === v));
    const started = db.local?.startedHere ? " (started for this check)" : "";
    if (applied.length === 0) {
      return {
        line: {
          status: "warn",
          check: "database",
          detail:
            `${where}${started}: reachable, no schema yet (created on first start, or: jumphost migrate)`,
        },
        sql: null,
        close,
      };
    }
    const line: CheckLine = pending.length > 0
      ? {
        status: "fail",
        check: "database",
        detail: `${where}: ${pending.length} migration(s) pending (${
          pending.map((m) => m.version).join(", ")
        }): run jumphost migrate`,
      }
      : unknown.length > 0
      ? {
        status: "fail",
        check: "database",
        detail: `${where}: schema is newer than this program (${unknown.join(", ")})`,
      }
      : {
        status: "ok",
        check: "database",
        detail: `${where}${started}: reachable, schema current (${all.length} migrations)`,
      };
    return { line, sql: db.sql, close };
  } catch (e) {
    return {
      line: { status: "fail", check: "database", detail: `${where}: ${(e as Error).message}` },
      sql: null,
      close,
    };
  }
}

async function poolLine(sql: Sql | null): Promise<CheckLine> {
  if (!sql) {
    return { status: "warn", check: "pool IPs", detail: "not checked (database unreachable or empty)" };
  }
  try {
    const servers = await listServers(sql);
    const wanted = servers.filter((s) => s.pool_ip).map((s) => ({ ip: s.pool_ip!, server: s.name }));
    return judgePool(wanted, wanted.length > 0 ? await listAddresses() : []);
  } catch (e) {
    return { status: "fail", check: "pool IPs", detail: (e as Error).message };
  }
}

/** The nodes sharing the database: how many are live, their clocks against the database's, versions. */
async function clusterLines(sql: Sql | null, config: Config): Promise<CheckLine[]> {
  if (!sql) return [];
  try {
    const nodes = await listNodes(sql);
    return judgeCluster(nodes.map((n) => ({
      name: n.name,
      health: nodeHealth(n.state, n.heartbeat_age_ms, config.nodeLostAfter * 1000),
      version: n.version,
      clockSkewMs: n.clock_skew_ms,
    })));
  } catch (e) {
    // an older schema (migration pending: the database line says so) has no nodes table yet
    if ((e as { code?: string }).code === "42P01") {
      return [{ status: "warn", check: "cluster nodes", detail: "not checked (schema not current)" }];
    }
    return [{ status: "fail", check: "cluster nodes", detail: (e as Error).message }];
  }
}

export function formatLines(lines: CheckLine[]): string {
  const w = Math.max(...lines.map((l) => l.check.length));
  const tag = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
  // deno-lint-ignore no-control-regex -- details may quote file contents or names: keep one line each
  const safe = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, " ");
  return lines.map((l) => `${tag[l.status]}  ${l.check.padEnd(w)}  ${safe(l.detail)}`).join("\n");
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check configuration, database, listen addresses, pool IPs, ffmpeg, disk space, certificate",
  usage: "jumphost doctor [--json]",
  async run(ctx, argv) {
    const p = parseArgs(argv);
    const config = ctx.config;
    const lines: CheckLine[] = [checkDataDir(config)];
    const db = await databaseLine(config);
    try {
      lines.push(db.line);
      lines.push(...listenLines(config, probeListen));
      lines.push(...sshAlgorithmLines(config));
      lines.push(sshCryptoLine());
      lines.push(await poolLine(db.sql));
      lines.push(...await clusterLines(db.sql, config));
    } finally {
      await db.close();
    }
    lines.push(await checkFfmpeg());
    lines.push(checkFreeSpace(config.recordingsDir));
    lines.push(checkCertificate(config, new Date()));
    const sso = await checkSingleSignOn(config);
    if (sso) lines.push(sso);
    const failed = lines.filter((l) => l.status === "fail").length;
    if (bool(p, "json")) ctx.out.line(json({ ok: failed === 0, checks: lines }));
    else {
      ctx.out.line(formatLines(lines));
      const warned = lines.filter((l) => l.status === "warn").length;
      ctx.out.line(
        failed === 0
          ? `all checks passed${warned ? ` (${warned} warning(s))` : ""}`
          : `${failed} check(s) failed`,
      );
    }
    return failed === 0 ? 0 : 1;
  },
};
