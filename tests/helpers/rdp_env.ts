// A complete RDP proxy test environment: a fresh database with a user, a server and a grant, the proxy
// core in-process, and helpers to wait for what it writes. Everything is torn down by close().
import { createLogger } from "../../core/log.ts";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { loadApplianceKey } from "../../core/appliance_key.ts";
import { createRdpProxy, type RdpProxy, type RdpProxyDeps } from "../../proxy/rdp/mod.ts";
import { freePort } from "./rdp_backend.ts";
import { createTestDb, type TestDb } from "./test_db.ts";

export const POOL_IP = "127.0.0.5";

export interface RdpEnv {
  db: TestDb;
  proxy: RdpProxy;
  /** The proxy's configured port (on 0.0.0.0). */
  port: number;
  dir: string;
  policyId: number;
  close(): Promise<void>;
}

export interface RdpEnvOptions {
  backendPort: number;
  /** Grant length (default one hour). */
  grantMs?: number;
  /** No policy at all (for denials). */
  noPolicy?: boolean;
  /** A dedicated listen port for the server. */
  rdpListenPort?: number;
  /** The server's rdp_security (default: the product default, any). */
  rdpSecurity?: "nla" | "tls" | "any";
  /** The server's password_passthrough (default: the product default, on). */
  passwordPassthrough?: boolean;
  /** alice's jump password (NT hash sealed with the env's appliance key, for NLA). */
  alicePassword?: string;
  /** alice's source CIDR (default 127.0.0.1/32), and whether it is shared. */
  aliceSource?: { cidr: string; shared?: boolean };
  /** More users (no grants unless `grant`). */
  users?: { name: string; password?: string; source: { cidr: string; shared?: boolean }; grant?: boolean }[];
  proxy?: Partial<RdpProxyDeps>;
  /** The grant's Windows logins (default: any). */
  logins?: string[];
  /** Runs against the database after the fixtures, before the proxy starts (more users, changes). */
  setup?: (db: TestDb) => Promise<void>;
}

export async function startRdpEnv(o: RdpEnvOptions): Promise<RdpEnv> {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-rdp-" });
  let proxy: RdpProxy | null = null;
  try {
    // the proxy loads the same key from the data dir: NT hashes sealed here open there
    const secretKey = await loadApplianceKey(dir);
    await createUser(
      db.sql,
      {
        name: "alice",
        password: o.alicePassword,
        sourceIps: [o.aliceSource ?? { cidr: "127.0.0.1/32" }],
      },
      "test",
      { secretKey },
    );
    for (const u of o.users ?? []) {
      await createUser(db.sql, { name: u.name, password: u.password, sourceIps: [u.source] }, "test", {
        secretKey,
      });
    }
    await createServer(
      db.sql,
      {
        name: "desk",
        address: "127.0.0.1",
        rdpPort: o.backendPort,
        protocols: ["rdp"],
        poolIp: POOL_IP,
        rdpListenPort: o.rdpListenPort ?? null,
        rdpSecurity: o.rdpSecurity,
        passwordPassthrough: o.passwordPassthrough,
      },
      "test",
      "127.0.0.0/8", // explicit pool IPs must come from a configured pool
    );
    let policyId = 0;
    if (!o.noPolicy) {
      const p = await createPolicy(db.sql, {
        user: "alice",
        server: "desk",
        validFrom: new Date(Date.now() - 60_000),
        validUntil: new Date(Date.now() + (o.grantMs ?? 3_600_000)),
        logins: o.logins,
      }, "test");
      policyId = p.id;
      for (const u of (o.users ?? []).filter((u) => u.grant)) {
        await createPolicy(db.sql, {
          user: u.name,
          server: "desk",
          validFrom: new Date(Date.now() - 60_000),
          validUntil: new Date(Date.now() + 3_600_000),
        }, "test");
      }
    }
    await o.setup?.(db);
    const port = await freePort("0.0.0.0");
    proxy = await createRdpProxy({
      sql: db.sql,
      nodeId: "rdp-test",
      listen: [{ host: "0.0.0.0", port }],
      dataDir: dir,
      recordingsDir: `${dir}/recordings`,
      log: createLogger((Deno.env.get("JH_TEST_LOG") as "debug" | undefined) ?? "error", "rdp"),
      dedupeWindowMs: 1500,
      snapshotCache: { debounceMs: 50 },
      ...o.proxy,
    });
    const p = proxy;
    return {
      db,
      proxy: p,
      port,
      dir,
      policyId,
      async close() {
        await p.stop();
        await db.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (e) {
    await proxy?.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Poll `f` until it returns a value that is not null/undefined/false. */
export async function eventually<T>(
  f: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
