// A Debian root booted with systemd as PID 1 under systemd-nspawn (this machine's own PID 1 is not systemd):
// built and cached by scripts/build_root.sh, used through a throwaway copy, entered with nsenter (machinectl
// needs a registered machine, which a host without systemd cannot have).
import { join } from "node:path";
import { spawnCollected, type Spawned } from "./process.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<Run> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 120_000);
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: ac.signal,
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

async function has(cmd: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${cmd}`])).code === 0;
}

/**
 * Why systemd-nspawn cannot run here (the test is skipped then), or null when it can. A missing program is
 * not a reason: scripts/deps.sh test installs it, so its absence is a failure of the machine's set-up.
 */
export async function nspawnCannotRun(): Promise<string | null> {
  if (Deno.build.os !== "linux") return `systemd-nspawn is Linux only (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) return "systemd-nspawn and mmdebstrap need root";
  for (const [cmd, pkg] of [["systemd-nspawn", "systemd-container"], ["mmdebstrap", "mmdebstrap"]]) {
    if (!(await has(cmd))) {
      throw new Error(`${cmd} is not installed (apt: ${pkg}); run scripts/deps.sh test`);
    }
  }
  // a container of this machine's own /usr, running /usr/bin/true: namespaces, mounts, cgroups all work
  const dir = await Deno.makeTempDir({ prefix: "jh-nspawn-probe-" });
  const machine = `jhprobe-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(join(dir, "usr"));
    for (const d of ["bin", "sbin", "lib", "lib64"]) await Deno.symlink(`usr/${d}`, join(dir, d));
    const r = await run("systemd-nspawn", [
      "-q",
      "--register=no",
      "--keep-unit",
      `--machine=${machine}`,
      "-D",
      dir,
      "--bind-ro=/usr",
      "/usr/bin/true",
    ], { timeoutMs: 60_000 });
    if (r.code !== 0) return `systemd-nspawn cannot start a container here: ${lastLines(r.stderr)}`;
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
    await removePropagateDir(machine);
  }
}

function lastLines(s: string, n = 5): string {
  return s.trim().split("\n").slice(-n).join(" | ");
}

/** nspawn leaves /run/systemd/nspawn/propagate/<machine> behind where /run is not a tmpfs */
async function removePropagateDir(machine: string) {
  await Deno.remove(`/run/systemd/nspawn/propagate/${machine}`).catch(() => {});
}

/** Builds (first time, ~1-3 min) or reuses the cached root of `profile`; returns its path. */
export async function cachedRoot(profile: "systemd" | "fresh"): Promise<string> {
  const r = await run("bash", [join(REPO, "scripts/build_root.sh"), profile], { timeoutMs: 15 * 60_000 });
  if (r.code !== 0) throw new Error(`scripts/build_root.sh ${profile} failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout.trim().split("\n").at(-1)!;
}

export interface Booted {
  /** the container's PID 1 (systemd), as this machine sees it */
  pid1: number;
  /** runs a bash command line inside, as root, with a clean environment */
  sh(cmd: string, timeoutMs?: number): Promise<Run>;
  /** what the container printed on its console */
  console(): string;
  /** powers the container off and deletes the throwaway root */
  stop(): Promise<void>;
}

export interface BootOptions {
  /** host path → path inside, copied into the throwaway root before boot */
  copyIn?: Record<string, string>;
}

/** Boots a throwaway copy of `base` with its own network namespace (only lo) and waits for systemd. */
export async function bootRoot(base: string, opts: BootOptions = {}): Promise<Booted> {
  const work = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "jh-nspawn-" });
  const root = join(work, "root");
  const machine = `jhtest-${crypto.randomUUID().slice(0, 8)}`;
  let nspawn: Spawned | null = null;
  const cleanup = async () => {
    if (nspawn) await nspawn.stop(90_000);
    await removePropagateDir(machine);
    await Deno.remove(work, { recursive: true });
  };
  try {
    const cp = await run("cp", ["-a", base, root], { timeoutMs: 300_000 });
    if (cp.code !== 0) throw new Error(`copying ${base}: ${cp.stderr}`);
    for (const [from, to] of Object.entries(opts.copyIn ?? {})) {
      const dest = join(root, to);
      await Deno.mkdir(join(dest, ".."), { recursive: true });
      const c = await run("cp", ["-a", "-L", from, dest], { timeoutMs: 300_000 });
      if (c.code !== 0) throw new Error(`copying ${from} into the root: ${c.stderr}`);
    }
    nspawn = spawnCollected("systemd-nspawn", [
      "-q",
      "-b",
      "-D",
      root,
      `--machine=${machine}`,
      "--register=no",
      "--keep-unit",
      "--private-network",
      "--console=read-only",
    ]);
    const pid1 = await findPid1(nspawn);
    const sh = (cmd: string, timeoutMs = 120_000) =>
      run("nsenter", [
        "-t",
        String(pid1),
        "-a",
        "env",
        "-i",
        `PATH=${PATH}`,
        "HOME=/root",
        "LANG=C.UTF-8",
        "bash",
        "-c",
        cmd,
      ], {
        timeoutMs,
      });
    // systemctl answers once systemd's bus is up; then --wait waits for the boot to finish
    let state: Run = { code: -1, stdout: "", stderr: "" };
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      state = await sh("systemctl is-system-running --wait", 120_000);
      if (/^(running|degraded)$/.test(state.stdout.trim())) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!/^(running|degraded)$/.test(state.stdout.trim())) {
      throw new Error(
        `systemd did not come up (${state.stdout.trim()} ${state.stderr.trim()}):\n${
          nspawn.output().slice(-3000)
        }`,
      );
    }
    if (state.stdout.trim() === "degraded") {
      const failed = await sh("systemctl --failed --no-legend --plain");
      throw new Error(`systemd is degraded before the test did anything: ${failed.stdout}`);
    }
    const n = nspawn;
    return { pid1, sh, console: () => n.output(), stop: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The container's init: nspawn's child running systemd. */
async function findPid1(nspawn: Spawned): Promise<number> {
  const parent = nspawn.child.pid;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited(parent)) throw new Error(`systemd-nspawn exited at boot:\n${nspawn.output().slice(-3000)}`);
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        if (Number(fields[1]) === parent && comm === "systemd") return Number(e.name);
      } catch (_e) {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `no systemd under systemd-nspawn (pid ${parent}) after 60 s:\n${nspawn.output().slice(-3000)}`,
  );
}

/** a child that ended and is not reaped yet is a zombie */
function exited(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch (_e) {
    return true;
  }
}
