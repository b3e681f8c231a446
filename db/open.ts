// Opens the configured database: an external URL, or the embedded cluster under the data directory.
import { join } from "node:path";
import { connect, DbError, type Sql } from "./client.ts";
import { type LocalPg, startLocalPg } from "./local_pg.ts";
import { migrate } from "./migrate.ts";

export interface OpenDb {
  sql: Sql;
  /** the embedded cluster, when one is used */
  local: LocalPg | null;
  /** ends the pool; stops the embedded cluster only if `stopLocal` and this process started it */
  close(opts?: { stopLocal?: boolean }): Promise<void>;
}

export interface OpenDbOptions {
  databaseUrl: string | null;
  dataDir: string;
  max?: number;
  appName?: string;
  migrate?: boolean;
  log?: (l: string) => void;
  /** warnings of the embedded cluster's set-up (a permission it changed) */
  warn?: (l: string, fields: Record<string, unknown>) => void;
}

export function embeddedPgDir(dataDir: string): string {
  return join(dataDir, "pg");
}

export async function openDb(o: OpenDbOptions): Promise<OpenDb> {
  let local: LocalPg | null = null;
  let sql: Sql;
  if (o.databaseUrl) {
    sql = connect({ url: o.databaseUrl }, { max: o.max, appName: o.appName });
  } else {
    Deno.mkdirSync(o.dataDir, { recursive: true, mode: 0o750 });
    local = await startLocalPg({ dir: embeddedPgDir(o.dataDir), log: o.log, warn: o.warn });
    sql = connect({
      socketDir: local.socketDir,
      port: local.port,
      user: local.user,
      database: local.database,
    }, {
      max: o.max,
      appName: o.appName,
    });
  }
  try {
    if (o.migrate !== false) await migrate(sql);
    else await sql`SELECT 1`;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const code = (e as { code?: string }).code;
    if (code && /^(ECONN|ENOENT|CONNECT_TIMEOUT|ENOTFOUND|28)/.test(code)) {
      throw new DbError("unavailable", `cannot reach the database: ${(e as Error).message}`);
    }
    throw e;
  }
  return {
    sql,
    local,
    async close(opts = {}) {
      await sql.end({ timeout: 5 });
      if (opts.stopLocal && local?.startedHere) await local.stop();
    },
  };
}
