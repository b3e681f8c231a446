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
    const url = parseDbUrl(target.url);
    // libpq style ?host=/socket/dir selects a unix socket; postgres.js only reads the host part
    if (url.socketDir) return postgres(url.url, { ...options, host: url.socketDir }) as unknown as Sql;
    const tsa = url.targetSessionAttrs === "read-write" ? "primary" : url.targetSessionAttrs;
    return postgres(url.url, {
      ...options,
      ...(tsa && tsa !== "any" ? { target_session_attrs: tsa } : {}),
    }) as unknown as Sql;
  }
  return postgres({
    ...options,
    host: target.socketDir,
    port: target.port ?? 5432,
    username: target.user ?? "jumphost",
    database: target.database ?? "jumphost",
  }) as unknown as Sql;
}

export interface ParsedDbUrl {
  /** what postgres.js is given */
  url: string;
  socketDir: string | null;
  /** the hosts in order (failover: the first that is a primary is used) */
  hosts: string[];
  targetSessionAttrs: "primary" | "read-write" | "any" | null;
}

/**
 * Pure: reads a postgres:// URL, including libpq's several hosts (`h1:5432,h2:5432`) and
 * `target_session_attrs`. postgres.js 3.4's own "read-write" check only looks at
 * default_transaction_read_only, which a hot standby reports as off, so it would settle on a standby;
 * "read-write" is therefore asked of postgres.js as "primary" (in_hot_standby off), which on PostgreSQL
 * 14+ is what read-write means for a cluster of a primary and its standbys.
 */
export function parseDbUrl(text: string): ParsedDbUrl {
  const m = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/.exec(text);
  if (!m) throw new DbError("invalid", "the database URL must start with postgres:// or postgresql://");
  const hosts = m[3] === "" ? [] : m[3].split(",");
  // one host, for the URL parser; postgres.js reads the whole list from the original text
  const single = new URL(m[1] + (m[2] !== undefined ? m[2] + "@" : "") + (hosts[0] ?? "") + m[4]);
  const socketDir = single.searchParams.get("host");
  const tsa = single.searchParams.get("target_session_attrs");
  if (tsa !== null && !["primary", "read-write", "any"].includes(tsa)) {
    throw new DbError("invalid", `target_session_attrs=${tsa} is not supported (read-write, primary or any)`);
  }
  let url = text;
  if (socketDir) {
    single.searchParams.delete("host");
    url = single.toString();
  } else if (tsa !== null) {
    // given to postgres.js as an option instead (see above); left in the URL it would go to the server
    const rest = new URL("http://x" + m[4]);
    rest.searchParams.delete("target_session_attrs");
    url = m[1] + (m[2] !== undefined ? m[2] + "@" : "") + m[3] + rest.pathname + rest.search + rest.hash;
  }
  return {
    url,
    socketDir,
    hosts,
    targetSessionAttrs: tsa === null ? null : tsa as ParsedDbUrl["targetSessionAttrs"],
  };
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
