// Drives the real OpenSSH clients (ssh, scp, sftp) for e2e tests.
import { join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const CLIENT_OPTS = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "ConnectTimeout=10",
  "-o",
  "ServerAliveInterval=0",
];

export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
  timeoutMs?: number;
}

export async function runCmd(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    env: { LC_ALL: "C.UTF-8", ...o.env },
    stdin: o.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch (_e) {
      // exited meanwhile
    }
  }, o.timeoutMs ?? 30_000);
  try {
    if (o.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(typeof o.stdin === "string" ? new TextEncoder().encode(o.stdin) : o.stdin);
      await w.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A client identity: key file and the address to bind (source IP). */
export interface ClientId {
  bind: string;
  key?: string;
  /** when set, the password is typed through SSH_ASKPASS (no BatchMode) */
  password?: string;
  /** extra -o options */
  opts?: string[];
}

let askpassDir: string | null = null;

async function askpassEnv(password: string): Promise<Record<string, string>> {
  if (!askpassDir) {
    askpassDir = await Deno.makeTempDir({ prefix: "jh-askpass-" });
    await Deno.writeTextFile(
      join(askpassDir, "askpass.sh"),
      '#!/bin/sh\nprintf "%s\\n" "$JH_ASKPASS_SECRET"\n',
    );
    await Deno.chmod(join(askpassDir, "askpass.sh"), 0o700);
  }
  return {
    SSH_ASKPASS: join(askpassDir, "askpass.sh"),
    SSH_ASKPASS_REQUIRE: "force",
    DISPLAY: ":0",
    JH_ASKPASS_SECRET: password,
  };
}

export async function clientArgs(id: ClientId): Promise<{ args: string[]; env: Record<string, string> }> {
  const args = [...CLIENT_OPTS, "-o", `BindAddress=${id.bind}`];
  let env: Record<string, string> = {};
  if (id.password !== undefined) {
    args.push("-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1");
    env = await askpassEnv(id.password);
  } else {
    args.push("-o", "BatchMode=yes");
  }
  if (id.key) args.push("-o", "IdentitiesOnly=yes", "-i", id.key);
  else if (id.password === undefined) args.push("-o", "IdentitiesOnly=yes");
  for (const o of id.opts ?? []) args.push("-o", o);
  return { args, env };
}

export function ssh(
  id: ClientId,
  port: number,
  host: string,
  user: string,
  command: string[],
  o: RunOptions = {},
): Promise<RunResult> {
  return sshWith(id, port, host, user, [], command, o);
}

/** ssh with options before the destination (e.g. -A, -L, -N) and the remote command after. */
export async function sshWith(
  id: ClientId,
  port: number,
  host: string,
  user: string,
  before: string[],
  command: string[],
  o: RunOptions = {},
): Promise<RunResult> {
  const { args, env } = await clientArgs(id);
  return await runCmd("ssh", [...args, ...before, "-p", String(port), "-l", user, host, ...command], {
    ...o,
    env: { ...env, ...o.env },
  });
}

export async function scp(
  id: ClientId,
  port: number,
  args: string[],
  o: RunOptions = {},
): Promise<RunResult> {
  const c = await clientArgs(id);
  return await runCmd("scp", [...c.args, "-P", String(port), ...args], { ...o, env: { ...c.env, ...o.env } });
}

export async function sftpBatch(
  id: ClientId,
  port: number,
  target: string,
  batch: string,
  o: RunOptions = {},
): Promise<RunResult> {
  const c = await clientArgs(id);
  const dir = await Deno.makeTempDir({ prefix: "jh-sftp-" });
  const file = join(dir, "batch");
  await Deno.writeTextFile(file, batch);
  try {
    return await runCmd("sftp", [...c.args, "-P", String(port), "-b", file, target], {
      ...o,
      env: { ...c.env, ...o.env },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

export async function sha256File(path: string): Promise<string> {
  const data = await Deno.readFile(path);
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
