// Test support for route tests: a real throwaway database, the app, a settable clock, and a tiny
// cookie-keeping client that logs in through the real login form.
import { createTestDb, type TestDb } from "../tests/helpers/test_db.ts";
import { type ConsoleRole, createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { createApp } from "./app.ts";
import { createUser, findUser } from "../db/users.ts";
import { createServer, findServer } from "../db/servers.ts";
import { closeSession, findSessionRef, openSession, type TerminationReason } from "../db/sessions.ts";
import { addRecording } from "../db/recordings.ts";
import type { LogLevel, WebDeps } from "./deps.ts";
import { secretKey } from "../core/secret_box.ts";

/** The appliance secret route tests seal with (a fresh random key per test process). */
export const TEST_SECRET_KEY = secretKey(crypto.getRandomValues(new Uint8Array(32)));

export interface Fixture {
  db: TestDb;
  app: ReturnType<typeof createApp>;
  clock: { now: Date };
  logs: { level: LogLevel; message: string }[];
  killed: string[];
  /** creates a console user with password "pw-<name>-secret" and logs in */
  as(role: ConsoleRole, name?: string): Promise<Client>;
  client(ip?: string): Client;
  close(): Promise<void>;
}

/** `db`: a database the test made already (an e2e test's, with the proxy's sessions); closed by its owner */
export async function fixture(over: Partial<WebDeps> = {}, existing?: TestDb): Promise<Fixture> {
  const db = existing ?? await createTestDb();
  // real time by default: some store queries compare with the database's now()
  const clock = { now: new Date() };
  const logs: { level: LogLevel; message: string }[] = [];
  const killed: string[] = [];
  const app = createApp({
    sql: db.sql,
    nodeId: "test-node",
    log: (level, message) => logs.push({ level, message }),
    listenerStatus: () => [{ name: "ssh", address: "127.0.0.1:2222", state: "up" }],
    // stands in for the proxy that holds the session: it ends the session the way the proxy would
    killSession: async (id) => {
      killed.push(id);
      const ref = await findSessionRef(db.sql, id);
      if (!ref) return false;
      return await closeSession(db.sql, ref.id, {
        reason: "killed",
        detail: "by test",
        recordingPath: null,
        recordingSize: null,
        endedAt: new Date(),
      });
    },
    now: () => clock.now,
    secretKey: () => Promise.resolve(TEST_SECRET_KEY),
    ...over,
  });
  const fx: Fixture = {
    db,
    app,
    clock,
    logs,
    killed,
    client: (ip = "192.0.2.10") => new Client(app, ip),
    async as(role, name = role) {
      await createConsoleUser(db.sql, { name, role, passwordHash: await hashPassword(`pw-${name}-secret`) }, {
        actor: "test",
      });
      const c = new Client(app, "192.0.2.10");
      const r = await c.login(name, `pw-${name}-secret`);
      if (r.status !== 303) throw new Error(`login as ${name} failed: ${r.status}`);
      return c;
    },
    close: () => existing ? Promise.resolve() : db.close(),
  };
  return fx;
}

export class Client {
  cookies = new Map<string, string>();
  csrf = "";
  constructor(readonly app: ReturnType<typeof createApp>, readonly ip: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await this.app.request(path, { ...init, headers }, { remoteAddr: { hostname: this.ip } });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(";");
      const eq = pair.indexOf("=");
      const k = pair.slice(0, eq), v = pair.slice(eq + 1);
      if (v === "" || /max-age=0/i.test(sc)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return res;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { headers });
  }

  /** GET and return the body; remembers the page's CSRF token */
  async page(path: string): Promise<{ status: number; html: string; res: Response }> {
    const res = await this.get(path);
    const html = await res.text();
    const m = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
    if (m) this.csrf = m[1];
    return { status: res.status, html, res };
  }

  /** POST a form; the session's CSRF token is added unless `_csrf` is given */
  post(
    path: string,
    form: Record<string, string | string[]> = {},
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const body = new URLSearchParams();
    if (!("_csrf" in form)) body.set("_csrf", this.csrf);
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.request(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body,
    });
  }

  async login(name: string, password: string): Promise<Response> {
    const form = await this.get("/login");
    const html = await form.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const r = await this.post("/login", { _csrf: token, name, password, next: "/" });
    if (r.status === 303) {
      await r.body?.cancel();
      await this.page("/");
    }
    return r;
  }
}

/** Opens (and unless `active`, closes) a session through the proxies' own store functions. */
export async function insertSession(
  sql: TestDb["sql"],
  s: Partial<{
    session_id: string;
    user_name: string;
    server_name: string;
    protocol: "ssh" | "rdp";
    active: boolean;
    reason: TerminationReason;
    source_ip: string;
    recording_path: string;
  }> = {},
): Promise<{ id: number; session_id: string }> {
  const userName = s.user_name ?? "alice", serverName = s.server_name ?? "web1";
  const user = await findUser(sql, userName) ?? await createUser(sql, { name: userName }, "test");
  const server = await findServer(sql, serverName) ??
    await createServer(
      sql,
      { name: serverName, address: "127.0.0.1", protocols: ["ssh", "rdp"] },
      "test",
      null,
    );
  const sessionId = s.session_id ?? crypto.randomUUID();
  const id = await openSession(sql, {
    sessionId,
    userId: user.id,
    serverId: server.id,
    userName,
    serverName,
    protocol: s.protocol ?? "ssh",
    sourceIp: s.source_ip ?? "192.0.2.50",
    proxyIp: null,
    backendIp: "127.0.0.1",
    backendPort: 22,
    sshLogin: "root",
    policyId: null as unknown as number,
    nodeId: "test-node",
    metadata: {},
  });
  if (s.recording_path) {
    await addRecording(sql, { sessionRowId: id, kind: "asciicast", channel: "0", path: s.recording_path });
  }
  if (!s.active) {
    await closeSession(sql, id, {
      reason: s.reason ?? "normal",
      detail: null,
      recordingPath: s.recording_path ?? null,
      recordingSize: null,
      endedAt: new Date(),
    });
  }
  return { id, session_id: sessionId };
}
