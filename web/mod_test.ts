// startWeb: serves createApp on every configured address, over TLS when a certificate is configured.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { hashPassword } from "../policy/password.ts";
import { startWeb } from "./mod.ts";

const deps = (sql: import("../db/client.ts").Sql, logs: string[]) => ({
  sql,
  nodeId: "n1",
  log: (_l: string, m: string) => logs.push(m),
  listenerStatus: () => [],
  killSession: () => Promise.resolve(false),
});

async function openssl(args: string[]): Promise<void> {
  const r = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (r.code !== 0) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(r.stderr)}`);
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it. */
async function testCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  ]);
  await openssl(["req", ...ec, "-keyout", f("key.pem"), "-out", f("srv.csr"), "-subj", "/CN=127.0.0.1"]);
  await Deno.writeTextFile(f("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    f("srv.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("cert.pem"),
    "-days",
    "1",
    "-extfile",
    f("ext.cnf"),
  ]);
  return { ca: f("ca.pem"), cert: f("cert.pem"), key: f("key.pem") };
}

Deno.test("startWeb serves every listen address and stops cleanly", async () => {
  const db = await createTestDb();
  const logs: string[] = [];
  const web = await startWeb({
    webListen: [{ host: "127.0.0.1", port: 0 }, { host: "127.0.0.2", port: 0 }],
    dataDir: "/nonexistent",
    webTlsCert: null,
    webTlsKey: null,
    recordingsDir: "/nonexistent",
    ipPool: null,
  }, deps(db.sql, logs));
  try {
    assert.equal(web.addresses.length, 2);
    for (const a of web.addresses) {
      const r = await fetch(`http://${a.hostname}:${a.port}/login`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /<form method="post" action="\/login">/);
    }
    assert.ok(logs.some((l) => /listening on http:\/\/127\.0\.0\.2:\d+/.test(l)));
  } finally {
    await web.stop();
    await db.close();
  }
});

Deno.test("startWeb with a certificate serves HTTPS with Secure __Host- cookies and HSTS", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir();
  const { ca, cert, key } = await testCerts(dir);
  const web = await startWeb({
    webListen: [{ host: "127.0.0.1", port: 0 }],
    dataDir: "/nonexistent",
    webTlsCert: cert,
    webTlsKey: key,
    recordingsDir: dir,
    ipPool: null,
  }, deps(db.sql, []));
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
  try {
    await createConsoleUser(db.sql, {
      name: "tls",
      role: "auditor",
      passwordHash: await hashPassword("tls-password"),
    }, { actor: "t" });
    const base = `https://127.0.0.1:${web.addresses[0].port}`;
    const form = await fetch(`${base}/login`, { client });
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
    const pre = form.headers.getSetCookie().find((c) => c.startsWith("jh_login_csrf="))!;
    assert.match(pre, /Secure/);
    const r = await fetch(`${base}/login`, {
      client,
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: pre.split(";")[0] },
      body: new URLSearchParams({ _csrf: token, name: "tls", password: "tls-password" }),
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const session = r.headers.getSetCookie().find((c) => c.startsWith("__Host-jh_session="))!;
    assert.match(session, /Secure/);
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.match(r.headers.get("Strict-Transport-Security") ?? "", /max-age=\d+/);
    const dash = await fetch(`${base}/`, { client, headers: { Cookie: session.split(";")[0] } });
    assert.equal(dash.status, 200);
    assert.match(await dash.text(), /Dashboard/);
  } finally {
    client.close();
    await web.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startWeb: a broken Host header or request body is the client's error (400), never a 500", async () => {
  const db = await createTestDb();
  const logs: string[] = [];
  const web = await startWeb({
    webListen: [{ host: "127.0.0.1", port: 0 }],
    dataDir: "/nonexistent",
    webTlsCert: null,
    webTlsKey: null,
    recordingsDir: "/nonexistent",
    ipPool: null,
  }, deps(db.sql, logs));
  const raw = async (request: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: web.addresses[0].port });
    try {
      await conn.write(new TextEncoder().encode(request));
      await conn.closeWrite();
      const buf = new Uint8Array(200);
      const n = await conn.read(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0));
    } finally {
      conn.close();
    }
  };
  try {
    // found by bench/reliability/fuzz_http.ts: each of these answered 500 and logged an internal error
    assert.match(await raw("GET / HTTP/1.1\r\nHost: x x x\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 400/);
    for (const type of ["multipart/form-data", "multipart/form-data; boundary=xyz"]) {
      const body = "{not a form";
      const r = await raw(
        `POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
      // the login form's CSRF check reads the body first: refused as unreadable, not as an internal error
      assert.match(r, /^HTTP\/1\.1 40[03]/, type);
    }
    assert.deepEqual(logs.filter((l) => /^web: /.test(l)), []);
  } finally {
    await web.stop();
    await db.close();
  }
});
