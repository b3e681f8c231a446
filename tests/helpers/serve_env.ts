// The real `jumphost serve` as a subprocess on loopback ports, with its own database and data directory,
// and (optionally) one user granted one real sshd behind the SSH proxy, for e2e tests of the appliance.
import { join } from "node:path";
import { MAIN } from "./cli.ts";
import { spawnCollected, type Spawned } from "./process.ts";
import { freePort, type Sshd, startSshd } from "./sshd.ts";
import { type ClientId, ssh } from "./ssh_clients.ts";
import type { RunResult } from "./ssh_clients.ts";
import { createTestDb, type TestDb } from "./test_db.ts";
import { grantWeb1 } from "./granted_ssh.ts";
import { embeddedPgDir, openDb } from "../../db/open.ts";
import { startLocalPg } from "../../db/local_pg.ts";

export interface ServeEnvOptions {
  /** extra environment of the serve process */
  env?: Record<string, string>;
  /** a user "wendy" (from CLIENT_IP, by key) granted server "web1" on a real sshd (default true) */
  withSsh?: boolean;
  /** listen ports (default: free ones) */
  ports?: Partial<Ports>;
  /**
   * serve on its embedded PostgreSQL (no database URL): the cluster is created under the data dir before
   * serve starts (so the grant can be written), serve finds it running; close() stops it
   */
  embedded?: boolean;
  /** runs against the database before serve starts (more fixtures) */
  setup?: (db: TestDb) => Promise<void>;
  /** another node: share this database (closed by its owner, not by this env) */
  db?: TestDb;
  /** the address every listener binds (default 127.0.0.1): nodes on distinct loopback addresses */
  host?: string;
  /** fills the data directory before serve first starts (another node's ssh/ keys) */
  prepareDataDir?: (dataDir: string) => Promise<void>;
}

/** The embedded cluster of a data dir, opened and migrated like serve does, as a TestDb. */
async function embeddedDb(dataDir: string): Promise<TestDb> {
  const db = await openDb({ databaseUrl: null, dataDir, max: 4 });
  return {
    sql: db.sql,
    name: "jumphost",
    url: "",
    async close() {
      await db.sql.end({ timeout: 1 }).catch(() => {});
      // serve may have restarted it: stop whatever runs there now
      const pg = await startLocalPg({ dir: embeddedPgDir(dataDir) }).catch(() => null);
      await pg?.stop().catch(() => {});
    },
  };
}

export interface Ports {
  ssh: number;
  rdp: number;
  web: number;
}

export interface ServeEnv {
  db: TestDb;
  sshd: Sshd | null;
  dataDir: string;
  ports: Ports;
  serve: Spawned;
  /** the granted user's client identity */
  client: ClientId;
  /** `<backend login>@web1`, the SSH user the proxy routes */
  target: string;
  /** runs a command on web1 through the proxy with the OpenSSH client */
  sshRun(command: string[]): Promise<RunResult>;
  /** GET /healthz on the console listener */
  healthz(): Promise<{ status: string; database: string }>;
  /** the JSON log lines of serve so far */
  logLines(): Record<string, unknown>[];
  /** once serve has exited (killed by the test), starts it again on the same data dir, ports and database */
  respawn(): Promise<void>;
  /** SIGTERM to serve and wait for it to exit; returns the exit code (once stopped, the same code again) */
  stop(): Promise<number>;
  /** stop(), then removes the database, the sshd and the data directory; returns serve's exit code */
  close(): Promise<number>;
}

export const CLIENT_IP = "127.0.0.30";

export async function startServeEnv(o: ServeEnvOptions = {}): Promise<ServeEnv> {
  // the embedded cluster's OS user must traverse to the data dir
  if (o.embedded) Deno.mkdirSync("/tmp/jumphost-test", { recursive: true, mode: 0o711 });
  const dir = await Deno.makeTempDir({
    prefix: "jh-serve-",
    dir: o.embedded ? "/tmp/jumphost-test" : undefined,
  });
  if (o.embedded) Deno.chmodSync(dir, 0o711);
  const dataDir = join(dir, "data");
  const db = o.db ?? (o.embedded ? await embeddedDb(dataDir) : await createTestDb());
  const host = o.host ?? "127.0.0.1";
  const ports: Ports = { ssh: freePort(), rdp: freePort(), web: freePort(), ...o.ports };
  let sshd: Sshd | null = null;
  const client: ClientId = { bind: CLIENT_IP };
  try {
    if (o.withSsh ?? true) {
      sshd = await startSshd();
      const key = await grantWeb1(db.sql, { sshd, sourceIp: CLIENT_IP, keyDir: dir, dataDir });
      client.key = key.path;
    }
    await o.setup?.(db);
    if (o.prepareDataDir) {
      await Deno.mkdir(dataDir, { recursive: true, mode: 0o750 });
      await o.prepareDataDir(dataDir);
    }
  } catch (e) {
    await sshd?.stop();
    if (!o.db) await db.close();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  const spawnServe = () =>
    spawnCollected(Deno.execPath(), [
      "run",
      "-A",
      MAIN,
      "serve",
      ...["--data-dir", dataDir, ...(o.embedded ? [] : ["--database-url", db.url]), "--log-level", "info"],
      ...["--ssh-listen", `${host}:${ports.ssh}`, "--rdp-listen", `${host}:${ports.rdp}`],
      ...["--web-listen", `${host}:${ports.web}`],
    ], { env: o.embedded ? { JUMPHOST_DATABASE_URL: "", ...o.env } : o.env });
  let stopped: Promise<number> | null = null;
  const stop = () => stopped ??= env.serve.stop().then((s) => s.code);
  const env: ServeEnv = {
    db,
    sshd,
    dataDir,
    ports,
    serve: spawnServe(),
    client,
    async respawn() {
      await env.serve.child.status;
      env.serve = spawnServe();
      stopped = null;
    },
    target: `${sshd?.user ?? "nobody"}@web1`,
    sshRun: (command) => ssh(client, ports.ssh, host, `${sshd?.user ?? "nobody"}@web1`, command),
    async healthz() {
      const res = await fetch(`http://${host}:${ports.web}/healthz`, { signal: AbortSignal.timeout(5000) });
      return await res.json();
    },
    logLines() {
      const text = env.serve.output();
      // complete lines only (the last one may still be arriving)
      return text.slice(0, text.lastIndexOf("\n")).split("\n").filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    stop,
    async close() {
      try {
        return await stop();
      } finally {
        await sshd?.stop();
        if (!o.db) await db.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
  return env;
}
