// The embedded default: a private PostgreSQL cluster under the data directory, reachable only through
// a unix socket inside that directory (no TCP listener). PostgreSQL refuses to run as root, so when we
// are root the cluster belongs to an unprivileged user (default "postgres").
import { join } from "node:path";

export class LocalPgError extends Error {
  constructor(readonly code: "no_binaries" | "no_user" | "initdb" | "start" | "stop", message: string) {
    super(message);
    this.name = "LocalPgError";
  }
}

export interface LocalPgOptions {
  /** cluster directory, e.g. <dataDir>/pg */
  dir: string;
  /** OS user owning the cluster when running as root */
  osUser?: string;
  /** database and role the program uses */
  database?: string;
  log?: (line: string) => void;
  /** something the operator should know, e.g. a permission this changed (default: stderr) */
  warn?: (line: string, fields: Record<string, unknown>) => void;
}

export interface LocalPg {
  dir: string;
  socketDir: string;
  port: number;
  user: string;
  database: string;
  /** true when this process started the server (and so should stop it) */
  startedHere: boolean;
  stop(): Promise<void>;
}

const PORT = 5432;
const ROLE = "jumphost";

export function findPgBin(): string {
  const env = Deno.env.get("JUMPHOST_PG_BIN");
  if (env) return env;
  const versions: number[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      if (/^\d+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch (_e) {
    // fall through to the error below
  }
  for (const v of versions.sort((a, b) => b - a)) {
    const bin = `/usr/lib/postgresql/${v}/bin`;
    if (exists(join(bin, "pg_ctl"))) return bin;
  }
  throw new LocalPgError(
    "no_binaries",
    "PostgreSQL server binaries not found (apt-get install postgresql, or set JUMPHOST_PG_BIN, or configure database_url)",
  );
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch (_e) {
    return false;
  }
}

interface Ids {
  uid: number;
  gid: number;
}

/** the non-root owner of an existing cluster directory, if any */
function existingOwner(dir: string): Ids | null {
  try {
    const st = Deno.statSync(dir);
    return st.uid && st.gid !== null ? { uid: st.uid, gid: st.gid } : null;
  } catch (_e) {
    return null;
  }
}

function lookupUser(name: string): Ids {
  const passwd = Deno.readTextFileSync("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new LocalPgError("no_user", `OS user "${name}" for the embedded PostgreSQL does not exist`);
}

async function run(
  bin: string,
  args: string[],
  ids: Ids | null,
  code: LocalPgError["code"],
): Promise<string> {
  const opts: Deno.CommandOptions = { args, stdout: "piped", stderr: "piped", stdin: "null" };
  if (ids) Object.assign(opts, { uid: ids.uid, gid: ids.gid });
  const out = await new Deno.Command(bin, opts).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new LocalPgError(code, `${bin.split("/").pop()} failed: ${text.trim().slice(-600)}`);
  }
  return text;
}

function pidAlive(pid: number): boolean {
  try {
    const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
    // a postmaster killed with SIGKILL stays a zombie until its parent (often init) reaps it: dead, although
    // signals (and so `pg_ctl status`) still reach its pid
    const state = /^State:\s+(\S)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
    return comm.startsWith("postgres") && state !== "Z" && state !== "X";
  } catch (_e) {
    return false;
  }
}

/** The postmaster named by the cluster's lock file is a live process (not a zombie). */
function postmasterAlive(dir: string): boolean {
  try {
    const pid = Number(Deno.readTextFileSync(join(dir, "postmaster.pid")).split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
  } catch (_e) {
    return false;
  }
}

/** A crash (or a reboot of a container) can leave postmaster.pid naming a dead or unrelated process. */
export function clearStalePid(dir: string, log: (l: string) => void = () => {}): boolean {
  const file = join(dir, "postmaster.pid");
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (_e) {
    return false;
  }
  const pid = Number(text.split("\n")[0]);
  if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return false;
  Deno.removeSync(file);
  log(`removed stale ${file} (pid ${pid} is not a running postgres)`);
  return true;
}

export async function startLocalPg(opts: LocalPgOptions): Promise<LocalPg> {
  const log = opts.log ?? (() => {});
  const bin = findPgBin();
  const root = Deno.uid() === 0;
  // an existing cluster keeps its owner (the installed service user "jumphost" when root runs the CLI)
  const ids = root ? (existingOwner(opts.dir) ?? lookupUser(opts.osUser ?? "postgres")) : null;
  const dir = opts.dir;
  const database = opts.database ?? "jumphost";

  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ids) {
    Deno.chownSync(dir, ids.uid, ids.gid);
    // the cluster owner must be able to reach its directory: open the data dir for traversal only
    // (not listing), and refuse clearly when an ancestor we do not own blocks it
    const parent = join(dir, "..");
    const st = Deno.statSync(parent);
    const mode = (st.mode ?? 0o700) & 0o777;
    if (st.uid !== ids.uid && (mode & 0o001) === 0) {
      Deno.chmodSync(parent, mode | 0o001);
      const user = opts.osUser ?? "postgres";
      const warn = opts.warn ?? ((l: string) => console.error(`jumphost: warning: ${l}`));
      warn(
        `added o+x (traverse, not list) to ${parent} (mode ${mode.toString(8)} → ${
          (mode | 1).toString(8)
        }): ` +
          `the embedded PostgreSQL runs as the OS user "${user}", which must pass through it to reach ${dir}`,
        { directory: parent, old_mode: mode.toString(8), new_mode: (mode | 1).toString(8), os_user: user },
      );
    }
    for (let p = join(parent, ".."); p !== "/"; p = join(p, "..")) {
      if (((Deno.statSync(p).mode ?? 0) & 0o001) === 0) {
        throw new LocalPgError(
          "start",
          `${p} is not traversable by "${opts.osUser ?? "postgres"}"; choose another data dir`,
        );
      }
    }
  }
  Deno.chmodSync(dir, 0o700);

  if (!exists(join(dir, "PG_VERSION"))) {
    log(`initialising embedded PostgreSQL cluster in ${dir}`);
    await run(
      join(bin, "initdb"),
      [
        "-D",
        dir,
        "-U",
        ROLE,
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-instructions",
      ],
      ids,
      "initdb",
    );
  }

  const pgCtl = join(bin, "pg_ctl");
  const status = await new Deno.Command(pgCtl, {
    args: ["status", "-D", dir],
    stdout: "null",
    stderr: "null",
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
  } as Deno.CommandOptions).output();
  let startedHere = false;
  if (status.code !== 0 || !postmasterAlive(dir)) {
    clearStalePid(dir, log);
    const o = `-c listen_addresses='' -c unix_socket_directories='${dir}' -c port=${PORT} ` +
      `-c unix_socket_permissions=0700 -c max_connections=200 -c shared_buffers=64MB -c fsync=on`;
    try {
      await run(
        pgCtl,
        ["start", "-w", "-t", "60", "-D", dir, "-l", join(dir, "server.log"), "-o", o],
        ids,
        "start",
      );
    } catch (e) {
      let tail = "";
      try {
        tail = Deno.readTextFileSync(join(dir, "server.log")).split("\n").slice(-8).join("\n");
      } catch (_e) {
        // no log
      }
      throw new LocalPgError("start", `${(e as Error).message}\n${tail}`);
    }
    startedHere = true;
    log(`embedded PostgreSQL started (socket ${dir})`);
  }

  const pg: LocalPg = {
    dir,
    socketDir: dir,
    port: PORT,
    user: ROLE,
    database,
    startedHere,
    async stop() {
      await run(pgCtl, ["stop", "-w", "-m", "fast", "-D", dir], ids, "stop");
      log("embedded PostgreSQL stopped");
    },
  };
  await ensureDatabase(bin, pg, ids);
  return pg;
}

async function ensureDatabase(bin: string, pg: LocalPg, ids: Ids | null): Promise<void> {
  const psql = join(bin, "psql");
  const q = `SELECT 1 FROM pg_database WHERE datname = '${pg.database.replace(/'/g, "''")}'`;
  const args = ["-h", pg.socketDir, "-p", String(pg.port), "-U", pg.user, "-d", "postgres", "-tAc"];
  const found = await run(psql, [...args, q], ids, "start");
  if (found.trim() !== "1") {
    await run(
      join(bin, "createdb"),
      ["-h", pg.socketDir, "-p", String(pg.port), "-U", pg.user, pg.database],
      ids,
      "start",
    );
  }
}
