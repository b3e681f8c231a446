// A real OpenSSH sshd on loopback for e2e tests: temp config, temp host key, a test OS user with a
// known password and an authorized key. Needs root (sshd switches to the user) and /usr/sbin/sshd.
import { join } from "node:path";
import { peerError, requireProgram } from "./peer.ts";

export const TEST_OS_USER = "jhtest";
export const TEST_OS_PASSWORD = "jh-Test-pw-7731";

export interface KeyPair {
  /** path of the private key file (mode 0600) */
  path: string;
  /** OpenSSH public key line */
  pub: string;
}

export interface Sshd {
  host: string;
  port: number;
  dir: string;
  /** "ssh-ed25519 AAAA…" as the proxy pins it */
  hostKey: string;
  /** a key the backend accepts for TEST_OS_USER */
  userKey: KeyPair;
  user: string;
  password: string;
  /** the listening sshd (its children serve the connections) */
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const p = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await p.output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

export async function makeKey(dir: string, name: string, type = "ed25519"): Promise<KeyPair> {
  const path = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", name, "-f", path]);
  return { path, pub: (await Deno.readTextFile(path + ".pub")).trim() };
}

let userReady: Promise<void> | null = null;

/** Creates (once per process, idempotent across processes) the OS user the backend logs in. */
export function ensureTestUser(): Promise<void> {
  userReady ??= (async () => {
    const exists = await new Deno.Command("id", { args: [TEST_OS_USER], stdout: "null", stderr: "null" })
      .output();
    if (!exists.success) {
      await run("useradd", ["--create-home", "--shell", "/bin/bash", TEST_OS_USER]).catch(async (e) => {
        // another test process may have created it in the meantime
        const again = await new Deno.Command("id", { args: [TEST_OS_USER], stdout: "null", stderr: "null" })
          .output();
        if (!again.success) throw e;
      });
    }
    await run("chpasswd", [], `${TEST_OS_USER}:${TEST_OS_PASSWORD}\n`);
    await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  })();
  return userReady;
}

/**
 * A throwaway OS user for one test (a login of its own, so changing its password disturbs nobody), with an
 * optional sudoers rule (which asks for the user's password). `remove()` deletes both.
 */
export async function createOsUser(
  name: string,
  password: string,
  opts: { sudoCommand?: string } = {},
): Promise<{ name: string; remove(): Promise<void> }> {
  await new Deno.Command("userdel", { args: ["-r", name], stdout: "null", stderr: "null" }).output();
  await run("useradd", ["--create-home", "--shell", "/bin/bash", name]);
  await run("chpasswd", [], `${name}:${password}\n`);
  const sudoers = `/etc/sudoers.d/jh-test-${name}`;
  if (opts.sudoCommand) {
    await Deno.writeTextFile(sudoers, `${name} ALL=(root) ${opts.sudoCommand}\n`, { mode: 0o440 });
    await run("visudo", ["-c", "-f", sudoers]);
  }
  return {
    name,
    async remove() {
      await Deno.remove(sudoers).catch(() => {});
      await new Deno.Command("userdel", { args: ["-r", name], stdout: "null", stderr: "null" }).output();
    },
  };
}

export function freePort(host = "127.0.0.1"): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export async function waitForPort(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: host, port });
      c.close();
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface SshdOptions {
  host?: string;
  /** extra authorized public key lines for TEST_OS_USER */
  authorizedKeys?: string[];
  /** extra sshd_config lines */
  extraConfig?: string[];
  /** lines that win over the defaults below (sshd keeps the first value of a keyword; AllowUsers adds up) */
  overrideConfig?: string[];
  /** MaxStartups (benchmarks open hundreds of sessions) */
  maxStartups?: number;
  /**
   * The sshd to run (default /usr/sbin/sshd). sshd names its PAM service after the name it was started
   * as, so a symlink to /usr/sbin/sshd named X uses /etc/pam.d/X: a PAM stack of the test's own.
   */
  program?: string;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  requireProgram("/usr/sbin/sshd", "openssh-server");
  await ensureTestUser();
  const host = opts.host ?? "127.0.0.1";
  const dir = await Deno.makeTempDir({ prefix: "jh-sshd-" });
  await Deno.chmod(dir, 0o755);
  const hostKey = await makeKey(dir, "host_ed25519");
  const userKey = await makeKey(dir, "user_ed25519");
  const authDir = join(dir, "authorized");
  await Deno.mkdir(authDir, { mode: 0o755 });
  await Deno.chmod(authDir, 0o755);
  const authFile = join(authDir, TEST_OS_USER);
  await Deno.writeTextFile(authFile, [userKey.pub, ...(opts.authorizedKeys ?? [])].join("\n") + "\n");
  await Deno.chmod(authFile, 0o644);
  const logFile = join(dir, "sshd.log");
  const port = freePort(host);
  const config = [
    ...(opts.overrideConfig ?? []),
    `ListenAddress ${host}:${port}`,
    `HostKey ${hostKey.path}`,
    `PidFile none`,
    `AuthorizedKeysFile ${authDir}/%u`,
    `StrictModes no`,
    `UsePAM no`,
    `PasswordAuthentication yes`,
    `KbdInteractiveAuthentication no`,
    `PubkeyAuthentication yes`,
    `PermitRootLogin no`,
    `AllowUsers ${TEST_OS_USER}`,
    `AllowAgentForwarding yes`,
    `AllowTcpForwarding yes`,
    `GatewayPorts no`,
    `X11Forwarding no`,
    `PrintMotd no`,
    `PrintLastLog no`,
    `AcceptEnv LANG LC_* JH_*`,
    `MaxStartups ${opts.maxStartups ?? 200}`,
    `MaxSessions 50`,
    `LogLevel VERBOSE`,
    `Subsystem sftp internal-sftp`,
    ...(opts.extraConfig ?? []),
  ].join("\n") + "\n";
  const configFile = join(dir, "sshd_config");
  await Deno.writeTextFile(configFile, config);
  const program = opts.program ?? "/usr/sbin/sshd";
  await run(program, ["-t", "-f", configFile]);
  const child = new Deno.Command(program, {
    args: ["-D", "-f", configFile, "-E", logFile],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForPort(host, port);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch (_e) {
      // it exited (the log says why)
    }
    await child.status;
    throw await peerError("sshd", (e as Error).message, [logFile]);
  }
  return {
    host,
    port,
    dir,
    hostKey: hostKey.pub.split(" ").slice(0, 2).join(" "),
    userKey,
    user: TEST_OS_USER,
    password: TEST_OS_PASSWORD,
    pid: child.pid,
    log: () => {
      try {
        return Deno.readTextFileSync(logFile);
      } catch {
        return "";
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch (_e) {
        // already exited
      }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
