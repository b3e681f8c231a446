// Real RDP peers for tests: Xvfb displays, FreeRDP shadow serving a known static X screen, xrdp with a
// temporary configuration and a test OS user, and the xfreerdp client. Everything started here is
// stopped by the returned stop() (call it in finally blocks).
import net from "node:net";
import { join } from "node:path";
import { spawnCollected, type Spawned } from "./process.ts";

export function haveRdpTools(): boolean {
  return ["xfreerdp", "freerdp-shadow-cli", "Xvfb"].every(which);
}

export function haveXrdp(): boolean {
  return ["xrdp", "xrdp-sesman", "Xvnc"].every(which);
}

function which(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      if (Deno.statSync(join(dir, cmd)).isFile) return true;
    } catch (_e) {
      // not in this directory
    }
  }
  return false;
}

export interface XDisplay {
  /** e.g. ":137" */
  display: string;
  stop(): Promise<void>;
}

/** An Xvfb server on a free display number (-displayfd reports it). */
export async function startXvfb(width = 1024, height = 768): Promise<XDisplay> {
  const p = spawnCollected("Xvfb", [
    "-displayfd",
    "1",
    "-screen",
    "0",
    `${width}x${height}x24`,
    "-nolisten",
    "tcp",
  ]);
  try {
    const out = await p.waitFor(/^\d+\s*$/m, 10_000);
    const display = `:${/^(\d+)\s*$/m.exec(out)![1]}`;
    return { display, stop: async () => void await p.stop(3000) };
  } catch (e) {
    await p.stop(1000);
    throw e;
  }
}

/** Static content: a window with fixed text, no cursor blink, no clock. */
export async function showStaticScreen(display: string): Promise<Spawned> {
  const p = spawnCollected("xterm", [
    "-geometry",
    "80x20+40+40",
    "+bc",
    "-bg",
    "white",
    "-fg",
    "black",
    "-e",
    "sh",
    "-c",
    "echo jumphost rdp test screen; exec sleep 3600",
  ], { env: { DISPLAY: display } });
  await new Promise((r) => setTimeout(r, 500));
  return p;
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ host, port: 0 }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Poll until a TCP connect to port on one of `hosts` succeeds. */
export async function waitForPort(hosts: string | string[], port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    let last = "";
    for (const hostname of [hosts].flat()) {
      try {
        const c = await Deno.connect({ hostname, port });
        c.close();
        return;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    if (Date.now() > end) throw new Error(`nothing listens on ${[hosts].flat().join("|")}:${port}: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ShadowBackend {
  port: number;
  display: string;
  process: Spawned;
  stop(): Promise<void>;
}

export interface ShadowNlaAccount {
  user: string;
  password: string;
  domain?: string;
}

/** The SAM line `winpr-hash` prints for an account (what freerdp-shadow-cli /sam-file reads). */
export async function samLine(a: ShadowNlaAccount): Promise<string> {
  const out = await new Deno.Command("winpr-hash", {
    args: ["-u", a.user, "-p", a.password, ...(a.domain ? ["-d", a.domain] : []), "-f", "sam"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`winpr-hash failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * freerdp-shadow-cli sharing a fresh Xvfb display with a static window. TLS only without
 * authentication by default; with `nla`, NLA (CredSSP) only, checking the accounts against a SAM file.
 */
export async function startShadow(
  opts: { width?: number; height?: number; nla?: ShadowNlaAccount[] } = {},
): Promise<ShadowBackend> {
  const x = await startXvfb(opts.width ?? 1024, opts.height ?? 768);
  const parts: { stop(): Promise<unknown> }[] = [x];
  try {
    const screen = await showStaticScreen(x.display);
    parts.unshift({ stop: () => screen.stop(2000) });
    const port = await freePort();
    let security = ["/sec:tls", "-auth"];
    if (opts.nla) {
      const dir = await Deno.makeTempDir({ prefix: "jh-shadow-sam-" });
      parts.push({ stop: () => Deno.remove(dir, { recursive: true }) });
      const sam = join(dir, "sam");
      await Deno.writeTextFile(sam, (await Promise.all(opts.nla.map(samLine))).join("\n") + "\n", {
        mode: 0o600,
      });
      security = ["/sec:nla", "+auth", `/sam-file:${sam}`];
    }
    const shadow = spawnCollected("freerdp-shadow-cli", [
      "/bind-address:127.0.0.1",
      `/port:${port}`,
      ...security,
    ], { env: { DISPLAY: x.display } });
    parts.unshift({ stop: () => shadow.stop(3000) });
    await waitForPort("127.0.0.1", port, 10_000);
    return {
      port,
      display: x.display,
      process: shadow,
      stop: async () => {
        for (const p of parts) await p.stop().catch(() => {});
      },
    };
  } catch (e) {
    for (const p of parts) await p.stop().catch(() => {});
    throw e;
  }
}

export interface XfreerdpResult {
  code: number;
  output: string;
}

export interface XfreerdpOptions {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** Extra arguments (e.g. "/sec:rdp"). */
  args?: string[];
  /** Kill the client (SIGINT) after this long; code 124-like result then. */
  runMs: number;
  /** Resolve early once the output matches. */
  until?: RegExp;
  /** Flush each output line at once (for timing what xfreerdp logs). */
  lineBuffered?: boolean;
}

/** xfreerdp under its own Xvfb. Never hangs: SIGINT after runMs (or once `until` matched), then SIGTERM. */
export async function runXfreerdp(o: XfreerdpOptions): Promise<XfreerdpResult & { killed: boolean }> {
  const c = await startXfreerdp(o);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = c.process.child.status.then(() => false);
  const waited = o.until
    ? c.process.waitFor(o.until, o.runMs).then(() => true, () => true)
    : new Promise<boolean>((r) => (timer = setTimeout(() => r(true), o.runMs)));
  const killed = await Promise.race([exited, waited]);
  clearTimeout(timer);
  const status = await c.stop();
  return { code: status.code, output: c.process.output(), killed };
}

/** Start xfreerdp and return it running (for tests that act while it is connected). */
export async function startXfreerdp(
  o: Omit<XfreerdpOptions, "runMs" | "until">,
): Promise<{ process: Spawned; stop(): Promise<Deno.CommandStatus> }> {
  const x = await startXvfb(1280, 1024);
  // line-buffered (stdbuf) when the caller times what it prints: a pipe is otherwise flushed in blocks
  const [cmd, pre] = o.lineBuffered ? ["stdbuf", ["-oL", "-eL", "xfreerdp"]] : ["xfreerdp", []];
  const p = spawnCollected(cmd, [
    ...pre,
    `/v:${o.host}:${o.port}`,
    "/cert:ignore",
    ...(o.args ?? ["/sec:tls"]),
    `/u:${o.user ?? "rdpuser"}`,
    `/p:${o.password ?? "rdppass"}`,
    "/size:1024x768",
    "+clipboard",
    ...((o.args ?? []).some((a) => a.startsWith("/log-level:")) ? [] : ["/log-level:INFO"]),
  ], { env: { DISPLAY: x.display } });
  return {
    process: p,
    async stop() {
      try {
        p.child.kill("SIGINT");
      } catch (_e) {
        // exited
      }
      const exited = await within(p.child.status.then(() => true), 3000, false);
      const s = await p.stop(exited ? 0 : 3000);
      await x.stop();
      return s;
    },
  };
}

/** `p`'s value, or `fallback` after `ms` (the timer is always cleared). */
export async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export const XRDP_USER = "jhrdptest";
export const XRDP_PASSWORD = "Jh-rdp-test-1";

/** The local account xrdp logs in (created once; PAM checks its password). */
export async function ensureXrdpUser(): Promise<void> {
  const run = (cmd: string, args: string[], stdin?: string) => {
    const c = new Deno.Command(cmd, {
      args,
      stdin: stdin ? "piped" : "null",
      stdout: "null",
      stderr: "piped",
    })
      .spawn();
    if (stdin) {
      const w = c.stdin.getWriter();
      void w.write(new TextEncoder().encode(stdin)).then(() => w.close());
    }
    return c.output();
  };
  const exists = await run("id", [XRDP_USER]);
  if (!exists.success) {
    const r = await run("useradd", ["-m", "-s", "/bin/sh", XRDP_USER]);
    if (!r.success) throw new Error(`useradd failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  const r = await run("chpasswd", [], `${XRDP_USER}:${XRDP_PASSWORD}\n`);
  if (!r.success) throw new Error(`chpasswd failed: ${new TextDecoder().decode(r.stderr)}`);
}

export interface XrdpBackend {
  port: number;
  /** The PEM certificate xrdp presents. */
  certPath: string;
  stop(): Promise<void>;
}

/**
 * xrdp + xrdp-sesman from a temporary configuration: TLS only, Xvnc sessions started automatically
 * from the Client Info credentials, sessions killed on disconnect. One at a time (sesman port 3350).
 */
export async function startXrdp(): Promise<XrdpBackend> {
  await ensureXrdpUser();
  const dir = await Deno.makeTempDir({ prefix: "jh-xrdp-" });
  const port = await freePort();
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const gen = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=xrdp-test",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!gen.success) throw new Error("openssl could not create the xrdp test certificate");
  const set = (text: string, k: string, v: string) => text.replace(new RegExp(`^${k}=.*$`, "m"), `${k}=${v}`);
  let xrdpIni = await Deno.readTextFile("/etc/xrdp/xrdp.ini");
  for (
    const [k, v] of [
      ["port", `tcp://127.0.0.1:${port}`],
      ["security_layer", "tls"],
      ["certificate", cert],
      ["key_file", key],
      ["autorun", "Xvnc"],
      ["fork", "false"],
      ["LogFile", join(dir, "xrdp.log")],
      ["EnableSyslog", "false"],
    ]
  ) xrdpIni = set(xrdpIni, k, v);
  let sesmanIni = await Deno.readTextFile("/etc/xrdp/sesman.ini");
  for (
    const [k, v] of [
      ["KillDisconnected", "true"],
      ["LogFile", join(dir, "sesman.log")],
      ["EnableSyslog", "false"],
    ]
  ) sesmanIni = set(sesmanIni, k, v);
  await Deno.writeTextFile(join(dir, "xrdp.ini"), xrdpIni);
  await Deno.writeTextFile(join(dir, "sesman.ini"), sesmanIni);
  await Deno.mkdir("/run/xrdp/sockdir", { recursive: true, mode: 0o1777 });
  // not spawnCollected: session processes forked by sesman would hold its pipes open forever
  const spawn = (cmd: string, args: string[]) =>
    new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  const sesman = spawn("xrdp-sesman", ["-n", "-c", join(dir, "sesman.ini")]);
  const xrdp = spawn("xrdp", ["-n", "-c", join(dir, "xrdp.ini")]);
  const stop = async () => {
    for (const p of [xrdp, sesman]) await stopChild(p, 3000);
    await killUserProcesses(XRDP_USER);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitForPort("127.0.0.1", port, 10_000);
    // sesman listens on "127.0.0.1" as given, which xrdp 0.9 binds as IPv6 ::1 when IPv6 is enabled
    await waitForPort(["::1", "127.0.0.1"], 3350, 10_000);
  } catch (e) {
    const logs = await Promise.all(
      ["xrdp.log", "sesman.log"].map((f) => Deno.readTextFile(join(dir, f)).catch(() => "")),
    );
    await stop();
    throw new Error(`${(e as Error).message}\n${logs.join("\n")}`);
  }
  return { port, certPath: cert, stop };
}

/** SIGTERM, then SIGKILL after graceMs. */
async function stopChild(p: Deno.ChildProcess, graceMs: number): Promise<void> {
  try {
    p.kill("SIGTERM");
  } catch (_e) {
    // exited
  }
  const done = await within(p.status.then(() => true), graceMs, false);
  if (!done) {
    try {
      p.kill("SIGKILL");
    } catch (_e) {
      // exited
    }
    await p.status;
  }
}

/** Sessions sesman started (Xvnc, window manager) run as the test user: end them by pid. */
async function killUserProcesses(user: string): Promise<void> {
  const out = await new Deno.Command("ps", {
    args: ["-u", user, "-o", "pid="],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  const pids = new TextDecoder().decode(out.stdout).split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch (_e) {
      // gone already
    }
  }
}
