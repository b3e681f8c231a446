// A real HAProxy (Debian package haproxy) in TCP mode, as the load balancer in front of jumphost's
// listeners: each route binds addresses and forwards to one backend, with or without a PROXY v2 header,
// from a chosen source address (so tests can be a trusted or an untrusted balancer).
import { join } from "node:path";
import { peerError, requireProgram, spawnPeer } from "./peer.ts";
import { waitForPort } from "./sshd.ts";

export interface HaproxyRoute {
  name: string;
  /** HOST:PORT the balancer listens on (a pool IP, or the service address) */
  bind: string[];
  /** HOST:PORT of the jumphost listener; several: one node each, round robin */
  to: string | string[];
  /** put a PROXY protocol v2 header in front of the client's bytes */
  sendProxyV2: boolean;
  /** the balancer's own source address toward jumphost */
  source: string;
  /** health checks every 300 ms (with send-proxy-v2 they carry a LOCAL header) */
  check?: boolean;
}

export interface Haproxy {
  log: string;
  stop(): Promise<void>;
}

export async function startHaproxy(routes: HaproxyRoute[]): Promise<Haproxy> {
  requireProgram("/usr/sbin/haproxy", "haproxy");
  const dir = await Deno.makeTempDir({ prefix: "jh-haproxy-" });
  const cfg = join(dir, "haproxy.cfg");
  const log = join(dir, "haproxy.log");
  const lines = [
    "global",
    "  maxconn 200",
    "defaults",
    "  mode tcp",
    "  timeout connect 5s",
    "  timeout client 60s",
    "  timeout server 60s",
  ];
  for (const r of routes) {
    lines.push(
      `frontend fe_${r.name}`,
      ...r.bind.map((b) => `  bind ${b}`),
      `  default_backend be_${r.name}`,
    );
    const to = Array.isArray(r.to) ? r.to : [r.to];
    lines.push(
      `backend be_${r.name}`,
      "  balance roundrobin",
      ...to.map((t, i) =>
        `  server jump${i} ${t}${r.sendProxyV2 ? " send-proxy-v2" : ""} source ${r.source}${
          r.check ? " check inter 300 fall 2 rise 2" : ""
        }`
      ),
    );
  }
  await Deno.writeTextFile(cfg, lines.join("\n") + "\n");
  const out = await Deno.open(log, { write: true, create: true });
  // -db: stay in the foreground, warnings and alerts on stderr
  const child = spawnPeer("/usr/sbin/haproxy", { args: ["-db", "-f", cfg], stdout: "null", stderr: "piped" });
  const logged = child.stderr.pipeTo(out.writable).catch(() => {});
  try {
    for (const r of routes) {
      for (const b of r.bind) {
        const [host, port] = b.split(":");
        await waitForPort(host, Number(port));
      }
    }
  } catch (_e) {
    try {
      child.kill("SIGKILL");
    } catch (_e) { /* exited */ }
    await child.status;
    await logged;
    throw await peerError("haproxy", "its frontends did not open", [log]);
  }
  return {
    log,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch (_e) { /* exited */ }
      await child.status;
      await logged;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
