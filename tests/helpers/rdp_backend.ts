// Real RDP peers for tests: Xvfb displays, FreeRDP shadow serving a known static X screen and the
// xfreerdp client (xrdp is in xrdp.ts). Everything started here is
// stopped by the returned stop() (call it in finally blocks).
import net from "node:net";
import { join } from "node:path";
import { PeerStartError, tail } from "./peer.ts";
import { spawnCollected, type Spawned } from "./process.ts";

export function haveRdpTools(): boolean {
  return ["xfreerdp", "freerdp-shadow-cli", "Xvfb"].every(which);
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
  } catch (_e) {
    await p.stop(1000);
    throw new PeerStartError(`Xvfb did not start (no display number within 10 s):\n${tail(p.output())}`);
  }
}

/**
 * An Xvnc (TigerVNC) X server on a free display number, serving no VNC port: unlike Xvfb (one fixed mode),
 * its RandR changes the screen size at run time (resizeDisplay), which is what makes freerdp-shadow resize
 * the desktop of its connected clients mid-session.
 */
export async function startXvnc(width = 1024, height = 768): Promise<XDisplay> {
  const p = spawnCollected("Xvnc", [
    "-displayfd",
    "1",
    "-geometry",
    `${width}x${height}`,
    "-depth",
    "24",
    "-SecurityTypes",
    "None",
    "-rfbport",
    "-1",
    "-nolisten",
    "tcp",
  ]);
  try {
    const out = await p.waitFor(/^\d+\s*$/m, 10_000);
    const display = `:${/^(\d+)\s*$/m.exec(out)![1]}`;
    return { display, stop: async () => void await p.stop(3000) };
  } catch (_e) {
    await p.stop(1000);
    throw new PeerStartError(`Xvnc did not start (no display number within 10 s):\n${tail(p.output())}`);
  }
}

/** Change an Xvnc display's screen size with RandR (xrandr -s), as a user changing the resolution does. */
export async function resizeDisplay(display: string, width: number, height: number): Promise<void> {
  const out = await new Deno.Command("xrandr", {
    args: ["-s", `${width}x${height}`],
    env: { DISPLAY: display },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`xrandr -s ${width}x${height} failed: ${new TextDecoder().decode(out.stderr)}`);
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
 * freerdp-shadow-cli sharing a fresh Xvfb display (or Xvnc, to resize it) with a static window. TLS only
 * without authentication by default; with `nla`, NLA (CredSSP) only, checking the accounts against a SAM file.
 */
export async function startShadow(
  opts: { width?: number; height?: number; nla?: ShadowNlaAccount[]; xserver?: "xvfb" | "xvnc" } = {},
): Promise<ShadowBackend> {
  const x = await (opts.xserver === "xvnc" ? startXvnc : startXvfb)(opts.width ?? 1024, opts.height ?? 768);
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
    await waitForPort("127.0.0.1", port, 10_000).catch((e) => {
      throw new PeerStartError(`freerdp-shadow-cli did not start: ${e.message}\n${tail(shadow.output())}`);
    });
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
