// postgres.js pool: one per process (or worker), passed around explicitly — never a module global.
import postgres from "postgres";

export type Sql = postgres.Sql<Record<string, never>>;
export type TxSql = postgres.TransactionSql<Record<string, never>>;

export interface DbTarget {
  /** a postgres:// URL (an external server) */
  url?: string;
  /** or a unix socket directory of the embedded cluster */
  socketDir?: string;
  port?: number;
  user?: string;
  database?: string;
}

export class DbError extends Error {
  constructor(readonly code: "unavailable" | "conflict" | "not_found" | "invalid", message: string) {
    super(message);
    this.name = "DbError";
  }
}

export function connect(target: DbTarget, opts: { max?: number; appName?: string } = {}): Sql {
  const options = {
    max: opts.max ?? 10,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: opts.appName ?? "jumphost" },
    // int8 (ids, counts) as JS numbers: every realistic value is below 2^53
    types: {
      int8: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => x.toString(),
        parse: (x: string) => Number(x),
      },
    },
    transform: { undefined: null },
  };
  if (target.url) {
    // libpq style ?host=/socket/dir selects a unix socket; postgres.js only reads the host part
    const u = new URL(target.url);
    const socketDir = u.searchParams.get("host");
    if (socketDir) {
      u.searchParams.delete("host");
      return postgres(u.toString(), { ...options, host: socketDir }) as unknown as Sql;
    }
    return postgres(target.url, options) as unknown as Sql;
  }
  return postgres({
    ...options,
    host: target.socketDir,
    port: target.port ?? 5432,
    username: target.user ?? "jumphost",
    database: target.database ?? "jumphost",
  }) as unknown as Sql;
}

export function withTx<T>(sql: Sql, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  return sql.begin((tx) => fn(tx as TxSql)) as Promise<T>;
}

/** Maps driver errors that callers can act on to typed errors with one clear line. */
export function describePgError(e: unknown): Error {
  const err = e as { code?: string; detail?: string; constraint_name?: string; message?: string };
  switch (err?.code) {
    case "23505":
      return new DbError("conflict", `already exists (${err.detail ?? err.constraint_name ?? "duplicate"})`);
    case "23503":
      return new DbError("conflict", `still referenced or missing reference (${err.detail ?? ""})`);
    case "23514":
      return new DbError("invalid", `rejected by constraint ${err.constraint_name ?? ""}`);
    case "ECONNREFUSED":
    case "ENOENT":
    case "CONNECT_TIMEOUT":
    case "CONNECTION_CLOSED":
    case "CONNECTION_ENDED":
    case "57P01":
    case "57P03":
      return new DbError("unavailable", `database unavailable (${err.code})`);
    default:
      return e instanceof Error ? e : new Error(String(e));
  }
}
