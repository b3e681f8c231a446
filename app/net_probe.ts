// Looking at the machine's network: interface addresses (`ip -j addr`), whether a listen address can be
// bound, and which process holds a listening TCP port (/proc/net/tcp* and /proc/<pid>/fd).

/** The machine could not be looked at (no `ip` program, unreadable output, a failed `ip` call): the
 * message is the whole story for the user. */
export class NetProbeError extends Error {
  override name = "NetProbeError";
}

export interface IfAddr {
  ifname: string;
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
}

/** Pure: the JSON of `ip -j addr` → a flat list of addresses. Unknown shapes are skipped, not trusted. */
export function parseIpAddrJson(text: string): IfAddr[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new NetProbeError(`cannot read the output of "ip -j addr": ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new NetProbeError('unexpected output of "ip -j addr" (not a list)');
  const out: IfAddr[] = [];
  for (const link of data) {
    const ifname = (link as { ifname?: unknown })?.ifname;
    const infos = (link as { addr_info?: unknown })?.addr_info;
    if (typeof ifname !== "string" || !Array.isArray(infos)) continue;
    for (const a of infos) {
      const { family, local, prefixlen } = a as Record<string, unknown>;
      if (
        (family === "inet" || family === "inet6") && typeof local === "string" &&
        typeof prefixlen === "number"
      ) {
        out.push({ ifname, family, local, prefixlen });
      }
    }
  }
  return out;
}

/** The `ip` program: PATH first, then the usual places (sbin is often not on a user's PATH). */
export function findProgram(name: string, extra: string[] = []): string | null {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== ""), ...extra];
  for (const d of dirs) {
    try {
      const st = Deno.statSync(`${d}/${name}`);
      if (st.isFile && ((st.mode ?? 0) & 0o111) !== 0) return `${d}/${name}`;
    } catch (_e) {
      // not here
    }
  }
  return null;
}

export function ipProgram(): string {
  const ip = findProgram("ip", ["/usr/sbin", "/sbin"]);
  if (!ip) throw new NetProbeError('the "ip" program (iproute2) is not installed: apt-get install iproute2');
  return ip;
}

export async function runIp(args: string[]): Promise<string> {
  const out = await new Deno.Command(ipProgram(), { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new NetProbeError(
      `ip ${args.join(" ")}: ${dec.decode(out.stderr).trim() || `exit code ${out.code}`}`,
    );
  }
  return dec.decode(out.stdout);
}

export async function listAddresses(): Promise<IfAddr[]> {
  return parseIpAddrJson(await runIp(["-j", "addr", "show"]));
}

export type ProbeResult =
  | { state: "free" }
  | { state: "in_use"; owner: ProcessInfo | null }
  | { state: "denied" }
  | { state: "no_address" }
  | { state: "error"; message: string };

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Tries to bind host:port and lets go at once. */
export function probeListen(host: string, port: number): ProbeResult {
  try {
    const l = Deno.listen({ hostname: host, port, transport: "tcp" });
    l.close();
    return { state: "free" };
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) return { state: "in_use", owner: listeningProcess(port) };
    if (e instanceof Deno.errors.PermissionDenied) return { state: "denied" };
    if (e instanceof Deno.errors.AddrNotAvailable) return { state: "no_address" };
    return { state: "error", message: (e as Error).message };
  }
}

/** Pure: inodes of LISTEN sockets on `port` from the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const localPort = parseInt(f[1].split(":")[1] ?? "", 16);
    if (localPort === port && f[3] === "0A") out.push(f[9]);
  }
  return out;
}

/** The process holding a listening TCP socket on `port`, when /proc lets us see it (root sees all). */
export function listeningProcess(port: number): ProcessInfo | null {
  const inodes = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const i of listeningInodes(Deno.readTextFileSync(f), port)) inodes.add(`socket:[${i}]`);
    } catch (_e) {
      // no IPv6, or no /proc
    }
  }
  if (inodes.size === 0) return null;
  for (const p of safeReadDir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    for (const fd of safeReadDir(`/proc/${p}/fd`)) {
      let link: string;
      try {
        link = Deno.readLinkSync(`/proc/${p}/fd/${fd}`);
      } catch (_e) {
        continue;
      }
      if (inodes.has(link)) {
        let argv: string[] = [];
        try {
          argv = Deno.readTextFileSync(`/proc/${p}/cmdline`).split("\0").filter((a) => a !== "");
        } catch (_e) {
          // exited meanwhile
        }
        return { pid: Number(p), argv };
      }
    }
  }
  return null;
}

function safeReadDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (_e) {
    return [];
  }
}

/** Pure: is this command line a running `jumphost serve` (compiled binary or main.ts under deno)? */
export function isJumphostServe(argv: string[]): boolean {
  const i = argv.indexOf("serve");
  if (i < 0) return false;
  return argv.slice(0, i).some((a) => /(^|\/)jumphost$/.test(a) || /(^|\/)main\.ts$/.test(a));
}
