// The real `jumphost serve` as a subprocess on loopback ports, with its own database and data directory,
// and (optionally) one user granted one real sshd behind the SSH proxy, for e2e tests of the appliance.
import { join } from "node:path";
import { MAIN } from "./cli.ts";
import { spawnCollected, type Spawned } from "./process.ts";
import { freePort, makeKey, type Sshd, startSshd } from "./sshd.ts";
import { type ClientId, ssh } from "./ssh_clients.ts";
import type { RunResult } from "./ssh_clients.ts";
import { createTestDb, type TestDb } from "./test_db.ts";
import { createUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createPolicy } from "../../db/policies.ts";

export interface ServeEnvOptions {
  /** extra environment of the serve process */
  env?: Record<string, string>;
  /** a user "wendy" (from CLIENT_IP, by key) granted server "web1" on a real sshd (default true) */
  withSsh?: boolean;
  /** listen ports (default: free ones) */
  ports?: Partial<Ports>;
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
  /** SIGTERM to serve and wait for it to exit; returns the exit code (once stopped, the same code again) */
  stop(): Promise<number>;
  /** stop(), then removes the database, the sshd and the data directory; returns serve's exit code */
  close(): Promise<number>;
}

export const CLIENT_IP = "127.0.0.30";

export async function startServeEnv(o: ServeEnvOptions = {}): Promise<ServeEnv> {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-serve-" });
  const dataDir = join(dir, "data");
  const ports: Ports = { ssh: freePort(), rdp: freePort(), web: freePort(), ...o.ports };
  let sshd: Sshd | null = null;
  const client: ClientId = { bind: CLIENT_IP };
  try {
    if (o.withSsh ?? true) {
      sshd = await startSshd();
      const key = await makeKey(dir, "client");
      client.key = key.path;
      await createUser(
        db.sql,
        { name: "wendy", sourceIps: [{ cidr: CLIENT_IP }], sshKeys: [key.pub] },
        "test",
      );
      await createServer(
        db.sql,
        { name: "web1", address: sshd.host, sshPort: sshd.port, poolIp: "none" },
        "test",
        null,
      );
      await createPolicy(db.sql, {
        user: "wendy",
        server: "web1",
        validFrom: new Date(Date.now() - 60_000),
        validUntil: new Date(Date.now() + 3_600_000),
      }, "test");
      // the appliance logs in to web1 with its own key for that server
      const backendKeys = join(dataDir, "ssh", "backend_keys");
      await Deno.mkdir(backendKeys, { recursive: true, mode: 0o700 });
      const appliance = await makeKey(backendKeys, "web1");
      await Deno.writeTextFile(join(sshd.dir, "authorized", sshd.user), appliance.pub + "\n", {
        append: true,
      });
    }
  } catch (e) {
    await sshd?.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  const serve = spawnCollected(Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    ...["--data-dir", dataDir, "--database-url", db.url, "--log-level", "info"],
    ...["--ssh-listen", `127.0.0.1:${ports.ssh}`, "--rdp-listen", `127.0.0.1:${ports.rdp}`],
    ...["--web-listen", `127.0.0.1:${ports.web}`],
  ], { env: o.env });
  let stopped: Promise<number> | null = null;
  const stop = () => stopped ??= serve.stop().then((s) => s.code);
  return {
    db,
    sshd,
    dataDir,
    ports,
    serve,
    client,
    target: `${sshd?.user ?? "nobody"}@web1`,
    sshRun: (command) => ssh(client, ports.ssh, "127.0.0.1", `${sshd?.user ?? "nobody"}@web1`, command),
    async healthz() {
      const res = await fetch(`http://127.0.0.1:${ports.web}/healthz`, { signal: AbortSignal.timeout(5000) });
      return await res.json();
    },
    logLines() {
      const text = serve.output();
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
        await db.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  };
}
