// xrdp + xrdp-sesman from a temporary configuration, logging in a test OS account that is recreated
// empty on every start, with a session script of our own (a bare window manager: no Xsession.d, no D-Bus,
// no openbox autostart, nothing from the machine's or an earlier run's state). Needs root.
import { join } from "node:path";
import { freePort, waitForPort, within } from "./rdp_backend.ts";
import { peerError, PeerStartError, requireProgram, spawnPeer } from "./peer.ts";

export const XRDP_USER = "jhrdptest";
export const XRDP_PASSWORD = "Jh-rdp-test-1";

/** xrdp-sesman's port: xrdp reads it from /etc/xrdp/sesman.ini, so a test cannot move it. */
const SESMAN_PORT = 3350;
/** Where xrdp and chansrv meet (compiled into Debian's xrdp); chansrv runs as the user, so it is 1777. */
const SOCKDIR = "/run/xrdp/sockdir";
const LOCK_FILE = "/tmp/jumphost-test/xrdp.lock";

export interface XrdpBackend {
  port: number;
  /** The PEM certificate xrdp presents. */
  certPath: string;
  /**
   * Resolves once sesman started a session and its channel server (xrdp-chansrv) is running and
   * listening; throws a PeerStartError naming what did not start, with the logs' last lines.
   */
  waitForChansrv(ms?: number): Promise<{ display: number }>;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], stdin?: string): Promise<Deno.CommandOutput> {
  const c = spawnPeer(cmd, { args, stdin: stdin ? "piped" : "null", stdout: "piped", stderr: "piped" });
  if (stdin) {
    const w = c.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  return c.output();
}

async function mustRun(cmd: string, args: string[], stdin?: string): Promise<string> {
  const r = await run(cmd, args, stdin);
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

async function userPids(user: string): Promise<number[]> {
  const out = await run("ps", ["-u", user, "-o", "pid="]);
  return new TextDecoder().decode(out.stdout).split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

/** Ends every process of the test account (sessions sesman started run as it), SIGTERM then SIGKILL. */
async function killUserProcesses(user: string): Promise<void> {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const pids = await userPids(user);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        Deno.kill(pid, signal);
      } catch (_e) {
        // gone already
      }
    }
    const end = Date.now() + 3000;
    while (Date.now() < end && (await userPids(user)).length > 0) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The account xrdp logs in, recreated with an empty home: nothing left by an earlier run (a ~/startwm.sh,
 * stale ~/.vnc or ~/.Xauthority, a session still running) can change this one.
 */
export async function resetXrdpUser(): Promise<void> {
  const id = await run("id", ["-u", XRDP_USER]);
  if (id.success) {
    await killUserProcesses(XRDP_USER);
    // sockets a killed session left in sockdir (chansrv's would make the next one fail to bind)
    const uid = Number(new TextDecoder().decode(id.stdout).trim());
    const names = await Array.fromAsync(Deno.readDir(SOCKDIR)).catch(() => [] as Deno.DirEntry[]);
    for (const e of names) {
      const path = join(SOCKDIR, e.name);
      if ((await Deno.lstat(path).catch(() => null))?.uid === uid) await Deno.remove(path).catch(() => {});
    }
    await mustRun("userdel", ["--force", "--remove", XRDP_USER]).catch(async (e) => {
      // userdel exits 12 when the home was already gone; the account must be gone though
      if ((await run("id", [XRDP_USER])).success) throw e;
    });
  }
  await mustRun("useradd", ["--create-home", "--shell", "/bin/sh", XRDP_USER]);
  await mustRun("chpasswd", [], `${XRDP_USER}:${XRDP_PASSWORD}\n`);
}

async function listening(port: number): Promise<string | null> {
  const out = await run("ss", ["-Hltnp", `sport = :${port}`]);
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "" ? null : text;
}

/** sesman's fixed port must be free (another xrdp test, here or in a container sharing loopback, ends). */
async function waitForSesmanPort(ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const holder = await listening(SESMAN_PORT);
    if (holder === null) return;
    if (Date.now() > end) {
      throw new PeerStartError(
        `xrdp-sesman cannot start: its port ${SESMAN_PORT} (fixed by /etc/xrdp/sesman.ini) is held by ` +
          `another process for ${ms / 1000} s (a leftover xrdp-sesman?):\n${holder}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One xrdp test at a time on this machine (the account, the sesman port and the display are shared). */
async function lockXrdp(): Promise<Deno.FsFile> {
  await Deno.mkdir("/tmp/jumphost-test", { recursive: true });
  const f = await Deno.open(LOCK_FILE, { create: true, write: true });
  await f.lock(true);
  return f;
}

async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=xrdp-test"];
  await mustRun("openssl", [...args, "-keyout", key, "-out", cert]);
  await Deno.chmod(key, 0o600);
  return { cert, key };
}

const set = (text: string, k: string, v: string) => {
  const re = new RegExp(`^${k}=.*$`, "m");
  if (!re.test(text)) throw new Error(`xrdp's configuration has no ${k}= line to set`);
  return text.replace(re, `${k}=${v}`);
};

/**
 * TLS only, Xvnc sessions started automatically from the Client Info credentials, sessions killed on
 * disconnect. One at a time (a lock file; sesman's port 3350 is fixed).
 */
export async function startXrdp(): Promise<XrdpBackend> {
  requireProgram("/usr/sbin/xrdp", "xrdp");
  requireProgram("/usr/sbin/xrdp-chansrv", "xrdp");
  requireProgram("/usr/bin/Xvnc", "tigervnc-standalone-server");
  requireProgram("/usr/bin/openbox", "openbox");
  const lock = await lockXrdp();
  const cleanups: (() => Promise<unknown>)[] = [() => Promise.resolve(lock.close())];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    await waitForSesmanPort(60_000);
    await resetXrdpUser();
    cleanups.push(() => killUserProcesses(XRDP_USER));
    const dir = await Deno.makeTempDir({ prefix: "jh-xrdp-" });
    cleanups.push(() => Deno.remove(dir, { recursive: true }));
    // the session script runs as the test user: it may enter the directory, not list or read the key
    await Deno.chmod(dir, 0o711);
    const { cert, key } = await makeCert(dir);
    const session = join(dir, "session.sh");
    // a bare window manager: it draws and keeps the session open; chansrv is sesman's own child
    await Deno.writeTextFile(
      session,
      '#!/bin/sh\nexec openbox --sm-disable >"$HOME/.xsession-errors" 2>&1\n',
    );
    await Deno.chmod(session, 0o755);
    const port = await freePort();
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
        ["EnableUserWindowManager", "false"],
        ["DefaultWindowManager", session],
        ["KillDisconnected", "true"],
        ["LogFile", join(dir, "sesman.log")],
        ["EnableSyslog", "false"],
      ]
    ) sesmanIni = set(sesmanIni, k, v);
    await Deno.writeTextFile(join(dir, "xrdp.ini"), xrdpIni);
    await Deno.writeTextFile(join(dir, "sesman.ini"), sesmanIni);
    // explicit chmod: mkdir's mode is masked by the umask, and xrdp only sets 1777 on a directory it creates
    await Deno.mkdir(SOCKDIR, { recursive: true });
    await Deno.chmod(SOCKDIR, 0o1777);
    const logs = [join(dir, "sesman.log"), join(dir, "xrdp.log")];
    // not collected pipes: session processes forked by sesman would hold them open forever
    const spawn = (cmd: string, args: string[]) =>
      spawnPeer(cmd, { args, stdin: "null", stdout: "null", stderr: "null" });
    const sesman = spawn("xrdp-sesman", ["-n", "-c", join(dir, "sesman.ini")]);
    cleanups.push(() => stopChild(sesman, 3000));
    const xrdp = spawn("xrdp", ["-n", "-c", join(dir, "xrdp.ini")]);
    cleanups.push(() => stopChild(xrdp, 3000));
    const exited = (p: Deno.ChildProcess) => within(p.status.then(() => true), 0, false);
    try {
      await waitForPort("127.0.0.1", port, 10_000);
    } catch (e) {
      throw await peerError("xrdp", `${(e as Error).message}`, logs);
    }
    try {
      // sesman listens on "127.0.0.1" as given, which xrdp 0.9 binds as IPv6 ::1 when IPv6 is enabled
      await waitForPort(["::1", "127.0.0.1"], SESMAN_PORT, 10_000);
      if (await exited(sesman)) throw new Error("it exited");
    } catch (e) {
      throw await peerError("xrdp-sesman", `${(e as Error).message}`, logs);
    }
    if (await exited(xrdp)) throw await peerError("xrdp", "it exited", logs);
    const home = (await mustRun("getent", ["passwd", XRDP_USER])).split(":")[5];
    return {
      port,
      certPath: cert,
      waitForChansrv: (ms = 15_000) => waitForChansrv(logs, home, ms),
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function waitForChansrv(logs: string[], home: string, ms: number): Promise<{ display: number }> {
  const [sesmanLog, xrdpLog] = logs;
  const end = Date.now() + ms;
  let display: number | null = null;
  for (;;) {
    const sesman = await Deno.readTextFile(sesmanLog).catch(() => "");
    display ??= Number(/Starting the xrdp channel server for display (\d+)/.exec(sesman)?.[1] ?? NaN) || null;
    if (display !== null) {
      const socket = `${SOCKDIR}/xrdp_chansrv_socket_${display}`;
      // chansrv removes the socket's file once xrdp connected; the kernel's table still lists the socket
      const unix = await Deno.readTextFile("/proc/net/unix");
      const bound = unix.split("\n").some((l) => l.endsWith(` ${socket}`));
      const pids = await run("pgrep", ["-u", XRDP_USER, "-x", "xrdp-chansrv"]);
      if (bound && pids.success) return { display };
      if (Date.now() > end) {
        const chansrvLog = join(home, `.local/share/xrdp/xrdp-chansrv.${display}.log`);
        const xsession = join(home, ".xsession-errors");
        const why = !pids.success ? "no xrdp-chansrv process" : `no socket ${socket}`;
        throw await peerError(
          "xrdp-chansrv",
          `${why} for display :${display} after ${ms / 1000} s (${SOCKDIR} must be mode 1777)`,
          [chansrvLog, xsession, xrdpLog],
        );
      }
    } else if (Date.now() > end) {
      throw await peerError("xrdp session", `sesman started no session within ${ms / 1000} s`, logs);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
