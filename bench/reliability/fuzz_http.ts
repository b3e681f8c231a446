// Fuzzing the console's HTTP listener of a real `serve`: a million requests over TCP, one per connection —
// well-formed ones with hostile paths, queries, cookies, forms and JSON against every kind of route, and
// malformed ones (random bytes, broken request lines and headers, 64 KiB headers, thousands of headers,
// bodies over the 1 MiB limit, lying Content-Length, bad chunked encoding). Counts answers by status; a
// crash is serve exiting, /healthz failing, or a 5xx answer (a route that failed instead of refusing).
//   deno run -A bench/reliability/fuzz_http.ts [--iterations N] [--seed S] [--concurrency C]
import { startServeEnv } from "../../tests/helpers/serve_env.ts";
import { mutate, prng } from "./fuzz_rand.ts";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const ITERATIONS = arg("iterations", 1_000_000);
const SEED = arg("seed", 0x4777);
const CONCURRENCY = arg("concurrency", 24);

const PATHS = [
  "/",
  "/login",
  "/login/code",
  "/login/passkey",
  "/login/passkey/options",
  "/login/oidc",
  "/logout",
  "/portal",
  "/portal/login",
  "/portal/logout",
  "/sessions",
  "/sessions/00000000-0000-0000-0000-000000000000",
  "/sessions/x/live",
  "/sessions/1/files/abc",
  "/recordings/queue",
  "/users",
  "/users/alice",
  "/servers",
  "/servers/web1",
  "/groups",
  "/policies",
  "/policies/1/revoke",
  "/audit",
  "/audit/export.csv",
  "/search",
  "/console-users",
  "/account",
  "/account/passkeys/options",
  "/account/totp/enrol",
  "/nodes",
  "/static/htmx.min.js",
  "/static/../../etc/passwd",
  "/healthz",
  "/metrics",
  "/%2e%2e/%2e%2e/etc/passwd",
  "//evil.example",
  "/\u00e9\u0000",
];
const METHODS = [
  "GET",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "FOO",
  "get",
];
const QUERY = [
  "",
  "?next=%2F%09%2Fevil.example",
  "?q=%00%ff%zz",
  "?since=2026-13-45&until=x&limit=-1",
  "?limit=99999999999999999999",
  "?page=NaN&status=active&protocol=ftp",
  "?user=' OR 1=1 --",
  "?q=" + "%41".repeat(3000),
  "?a=1&a=2&a[]=3&__proto__=x",
  "?startAt=-1",
];
const COOKIES = [
  "",
  "jh_session=x",
  "jh_session=" + "A".repeat(43),
  "jh_portal=" + "B".repeat(200),
  "jh_login_csrf=zz; jh_session=",
  "a=" + "c".repeat(8000),
  "jh_session=%00%ff",
];
const TYPES = [
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "multipart/form-data",
  "application/json",
  "text/plain",
  "",
];

const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(a: readonly T[]) => a[int(a.length)];
const enc = new TextEncoder();

function body(type: string): Uint8Array {
  const r = rand();
  if (r < 0.2) return new Uint8Array(0);
  if (r < 0.4) {
    const f = ["_csrf", "name", "password", "code", "next", "challenge", "protocols", "logins", "cidr"];
    return enc.encode(
      Array.from(
        { length: 1 + int(6) },
        () => `${pick(f)}=${encodeURIComponent(pick(QUERY) + pick(COOKIES))}`,
      )
        .join("&"),
    );
  }
  if (r < 0.55) {
    return enc.encode(pick(['{"handle":1,"response":[]}', "{", "null", '"x"', '{"__proto__":{"a":1}}']));
  }
  if (r < 0.6 && type.startsWith("multipart")) {
    return enc.encode(
      '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--xyz--\r\n'.slice(0, int(70)),
    );
  }
  if (r < 0.63) return new Uint8Array(1024 * 1024 + 1 + int(1024)); // just over the limit
  return Uint8Array.from({ length: int(2000) }, () => int(256));
}

function wellFormed(): Uint8Array {
  const method = pick(METHODS), path = pick(PATHS) + pick(QUERY), type = pick(TYPES);
  const b = method === "GET" || method === "HEAD" ? new Uint8Array(0) : body(type);
  const headers = [`Host: 127.0.0.1`, "Connection: close"];
  if (type) headers.push(`Content-Type: ${type}`);
  const cookie = pick(COOKIES);
  if (cookie) headers.push(`Cookie: ${cookie}`);
  if (rand() < 0.3) headers.push(`Origin: ${pick(["http://evil.example", "null", "http://127.0.0.1", "x"])}`);
  if (rand() < 0.2) headers.push(`X-CSRF-Token: ${pick(COOKIES)}`);
  if (rand() < 0.2) headers.push("HX-Request: true");
  if (rand() < 0.1) headers.push("Accept: text/event-stream");
  const r = rand();
  if (r < 0.1) headers.push(`Content-Length: ${b.length + 1 + int(100)}`); // lies: more than sent
  else if (r < 0.15) headers.push("Transfer-Encoding: chunked");
  else headers.push(`Content-Length: ${b.length}`);
  const head = enc.encode(`${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
  const out = new Uint8Array(head.length + b.length);
  out.set(head);
  out.set(b, head.length);
  return out;
}

const SEEDS = [wellFormed(), wellFormed(), enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")];
function malformed(): Uint8Array {
  const r = rand();
  if (r < 0.25) return mutate(rand, pick(SEEDS));
  if (r < 0.4) return Uint8Array.from({ length: int(400) }, () => int(256));
  if (r < 0.5) return enc.encode(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
  if (r < 0.6) {
    return enc.encode(
      `GET / HTTP/1.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y`).join("\r\n")}\r\n\r\n`,
    );
  }
  if (r < 0.7) {
    return enc.encode("POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n");
  }
  if (r < 0.8) {
    return enc.encode(
      pick(["GET\r\n\r\n", "GET /\r\n\r\n", " / HTTP/1.1\r\n\r\n", "GET / HTTP/9.9\r\n\r\n"]),
    );
  }
  if (r < 0.9) return enc.encode("GET / HTTP/1.1\r\nHost x\r\nNoColon\r\n\r\n");
  return enc.encode(`GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
}

async function send(port: number, bytes: Uint8Array): Promise<string> {
  let conn: Deno.TcpConn | null = null;
  const timer = setTimeout(() => conn?.close(), 10_000);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(bytes).catch(() => 0);
    // the request ends here: a lying Content-Length meets EOF instead of waiting for bytes that never come
    await conn.closeWrite().catch(() => {});
    const buf = new Uint8Array(64);
    const n = await conn.read(buf).catch(() => null);
    if (!n) return "closed";
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n)));
    return m ? m[1] : "other";
  } catch {
    return "error";
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed by the timer */ }
  }
}

const env = await startServeEnv({ withSsh: false });
const base = `http://127.0.0.1:${env.ports.web}`;
for (let i = 0; i < 100; i++) {
  if (await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok)).catch(() => false)) break;
  await new Promise((r) => setTimeout(r, 200));
}
const counts: Record<string, number> = {};
const fivexx: string[] = [];
let done = 0, healthFailures = 0;
const t0 = performance.now();
async function worker() {
  while (done < ITERATIONS) {
    const i = done++;
    const bytes = rand() < 0.75 ? wellFormed() : malformed();
    const status = await send(env.ports.web, bytes);
    counts[status] = (counts[status] ?? 0) + 1;
    if (status.startsWith("5") && fivexx.length < 20) {
      fivexx.push(new TextDecoder().decode(bytes.subarray(0, 300)));
    }
    if (i % 50_000 === 0) {
      const ok = await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok)).catch(() =>
        false
      );
      if (!ok) healthFailures++;
      console.error(
        `${i} inputs, ${Math.round((performance.now() - t0) / 1000)} s, healthz ${ok ? "ok" : "FAILED"}`,
      );
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (performance.now() - t0) / 1000;
const alive = await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok)).catch(() =>
  false
);
const errorLines = env.logLines().filter((l) => l.level === "error");
const errors = errorLines.length;
const samples = new Set(
  errorLines.map((l) => String(l.msg ?? l.message ?? "").replace(/\(ref [0-9a-f]+\)/, "").slice(0, 300)),
);
const rss =
  Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${env.serve.child.pid}/status`))?.[1]) /
  1024;
const code = await env.close();
console.log(JSON.stringify({
  target: "console HTTP",
  seed: SEED,
  inputs: ITERATIONS,
  statuses: counts,
  server_errors_5xx: Object.entries(counts).filter(([k]) => k.startsWith("5")).reduce((a, [, v]) => a + v, 0),
  health_failures: healthFailures,
  alive_at_end: alive,
  error_log_lines: errors,
  serve_rss_mib_at_end: Math.round(rss),
  serve_exit_code: code,
  seconds: Math.round(seconds),
}));
for (const f of fivexx) console.error(`5xx for: ${JSON.stringify(f)}`);
for (const m of [...samples].slice(0, 10)) console.error(`error logged: ${m}`);
Deno.exit(alive && healthFailures === 0 && fivexx.length === 0 ? 0 : 1);
