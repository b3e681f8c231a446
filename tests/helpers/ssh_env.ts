// One e2e environment for the SSH proxy: a real PostgreSQL database, a real sshd backend, the proxy
// running in-process on loopback, and shortcuts to create users, servers and grants through db/.
import { recordingEncryption, recordingKeys } from "../../core/recording_identity.ts";
import { join } from "node:path";
import { createTestDb, type TestDb } from "./test_db.ts";
import { type KeyPair, makeKey, type Sshd, startSshd } from "./sshd.ts";
import type { LdapConfig } from "../../core/ldap/config.ts";
import { createSshProxy, type SshProxy } from "../../proxy/ssh/server.ts";
import type { Clock } from "../../core/clock.ts";
import { systemClock } from "../../core/clock.ts";
import { UtmpWriter } from "../../recorder/utmp.ts";
import { createUser } from "../../db/users.ts";
import { createServer } from "../../db/servers.ts";
import { createPolicy } from "../../db/policies.ts";
import { generateKeyPairSync } from "../../proxy/ssh/ssh2_types.ts";
import type { Log, SshProxyDeps } from "../../proxy/ssh/runtime.ts";
import { secretKey } from "../../core/secret_box.ts";
import { loadSigningKey } from "../../core/signing_key.ts";
import type { SshAlgorithms } from "../../core/ssh_algorithms.ts";
import { DEFAULT_ALGORITHMS } from "../../proxy/ssh/algorithms.ts";

/** Seals the NT hash every password needs (the SSH tests never open it). */
export const TEST_SECRET_KEY = secretKey(crypto.getRandomValues(new Uint8Array(32)));

export interface SshEnv {
  db: TestDb;
  sshd: Sshd;
  proxy: SshProxy;
  /** the port the proxy listens on, on 127.0.0.1 and every extra address */
  port: number;
  dir: string;
  recordingsDir: string;
  /** the appliance data dir: its signing key seals recordings */
  dataDir: string;
  utmpFile: string;
  wtmpFile: string;
  /** a client key pair (registered or not, as the test decides) */
  key(name: string): Promise<KeyPair>;
  addUser(
    name: string,
    sourceIp: string,
    opts?: { keys?: string[]; password?: string; shared?: boolean },
  ): Promise<void>;
  addServer(
    name: string,
    opts?: { poolIp?: string; sshd?: Sshd; hostKey?: string; passwordPassthrough?: boolean },
  ): Promise<void>;
  grant(
    user: string,
    server: string,
    opts?: {
      logins?: string[];
      forwarding?: boolean;
      from?: Date;
      until?: Date;
      requireMfa?: boolean;
      schedules?: string[];
    },
  ): Promise<number>;
  /** reloads the proxy's policy snapshot now (after direct changes to the database) */
  reloadPolicy(): Promise<void>;
  /** writes an appliance key for a server (and returns its public line) */
  applianceKey(server: string): Promise<string>;
  logs: string[];
  close(): Promise<void>;
}

export interface SshEnvOptions {
  clock?: Clock;
  /** extra listen addresses (pool IPs) */
  extraHosts?: string[];
  warningsMs?: number[];
  /** extra authorized keys for the backend user */
  backendAuthorizedKeys?: string[];
  clientCiphers?: string[];
  /** both legs' algorithm lists (default: the configuration's defaults) */
  algorithms?: SshAlgorithms;
  /** keepalive interval of both legs (default 30 s) */
  keepaliveMs?: number;
  /** caps and timeouts of connections before login */
  setup?: SshProxyDeps["setup"];
  /** runs against the fresh database before the proxy starts */
  beforeStart?: (db: TestDb) => Promise<void>;
  /** per direction of a channel without a terminal, bytes its recording keeps */
  streamKeepBytes?: number;
  /** the directory (LDAP) that checks directory users' passwords */
  directory?: LdapConfig;
  /** PROXY protocol v2 from these balancers (config proxy_protocol_from / proxy_protocol) */
  proxyProtocol?: SshProxyDeps["proxyProtocol"];
  /** how long a connection waits for an access request's decision */
  requestWaitMs?: number;
  /** recording_encryption = age with these recording_recipients (the appliance's own identity is added) */
  encryptRecordingsTo?: string[];
}

export async function startSshEnv(o: SshEnvOptions = {}): Promise<SshEnv> {
  const dir = await Deno.makeTempDir({ prefix: "jh-sshenv-" });
  const keysDir = join(dir, "keys");
  const applianceDir = join(dir, "appliance");
  await Deno.mkdir(keysDir, { mode: 0o700 });
  await Deno.mkdir(applianceDir, { mode: 0o700 });
  const db = await createTestDb();
  const sshd = await startSshd({ authorizedKeys: o.backendAuthorizedKeys });
  const logs: string[] = [];
  const entry = (level: string) => (msg: string, f?: Record<string, unknown>) => {
    logs.push(`${level} ${msg} ${f ? JSON.stringify(f) : ""}`);
  };
  const log: Log = { debug: entry("debug"), info: entry("info"), warn: entry("warn"), error: entry("error") };
  await o.beforeStart?.(db);
  const recordingsDir = join(dir, "recordings");
  const dataDir = join(dir, "data");
  const utmpFile = join(dir, "utmp");
  const wtmpFile = join(dir, "wtmp");
  const proxy = await createSshProxy({
    sql: db.sql,
    nodeId: "test-node",
    hostKeys: [generateKeyPairSync("ed25519").private],
    recordingsDir,
    clock: o.clock ?? systemClock,
    log,
    utmp: new UtmpWriter(utmpFile, wtmpFile),
    applianceKeyFor: async (server) => {
      try {
        return await Deno.readFile(join(applianceDir, server));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      }
    },
    warningsMs: o.warningsMs,
    backendTimeoutMs: 10_000,
    keepaliveMs: o.keepaliveMs,
    algorithms: o.clientCiphers ? { ...DEFAULT_ALGORITHMS, ciphers: o.clientCiphers } : o.algorithms,
    setup: o.setup,
    streamKeepBytes: o.streamKeepBytes,
    directory: o.directory,
    proxyProtocol: o.proxyProtocol,
    requestWaitMs: o.requestWaitMs,
    requestPollMs: 200,
    secretKey: () => Promise.resolve(TEST_SECRET_KEY),
    signingKey: () => loadSigningKey(dataDir),
    recordingEncryption: o.encryptRecordingsTo
      ? await recordingEncryption(
        { recordingEncryption: "age", recordingRecipients: o.encryptRecordingsTo },
        dataDir,
      )
      : null,
    recordingKeys: recordingKeys(dataDir),
  });
  const [first] = await proxy.listen([{ host: "127.0.0.1", port: 0 }]);
  await proxy.listen((o.extraHosts ?? []).map((host) => ({ host, port: first.port })));
  const keyCache = new Map<string, KeyPair>();
  return {
    db,
    sshd,
    proxy,
    port: first.port,
    dir,
    recordingsDir,
    dataDir,
    utmpFile,
    wtmpFile,
    logs,
    async key(name) {
      let k = keyCache.get(name);
      if (!k) {
        k = await makeKey(keysDir, name);
        keyCache.set(name, k);
      }
      return k;
    },
    async addUser(name, sourceIp, opts = {}) {
      await createUser(
        db.sql,
        {
          name,
          sourceIps: [{ cidr: sourceIp, shared: opts.shared }],
          sshKeys: opts.keys,
          password: opts.password,
        },
        "test",
        { secretKey: TEST_SECRET_KEY },
      );
    },
    async addServer(name, opts = {}) {
      const target = opts.sshd ?? sshd;
      await createServer(
        db.sql,
        {
          name,
          address: target.host,
          sshPort: target.port,
          poolIp: opts.poolIp ?? "none",
          passwordPassthrough: opts.passwordPassthrough,
        },
        "test",
        // explicit pool IPs must come from a configured pool: loopback is these tests' pool
        opts.poolIp ? "127.0.0.0/8" : null,
      );
      if (opts.hostKey) {
        await db
          .sql`UPDATE servers SET host_key = ${opts.hostKey}, host_key_pinned_at = now() WHERE name = ${name}`;
      }
    },
    async grant(user, server, opts = {}) {
      const p = await createPolicy(db.sql, {
        user,
        server,
        logins: opts.logins,
        portForwarding: opts.forwarding,
        requireMfa: opts.requireMfa,
        schedules: opts.schedules,
        validFrom: opts.from ?? new Date(Date.now() - 60_000),
        validUntil: opts.until ?? new Date(Date.now() + 3_600_000),
      }, "test");
      await proxy.reloadPolicy();
      return p.id;
    },
    reloadPolicy: () => proxy.reloadPolicy(),
    async applianceKey(server) {
      const k = await makeKey(keysDir, `appliance-${server}`);
      await Deno.copyFile(k.path, join(applianceDir, server));
      return k.pub;
    },
    async close() {
      await proxy.close();
      await sshd.stop();
      await db.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
