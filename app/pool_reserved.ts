// The addresses a pool IP must never be, as this machine and its configuration see them: every interface
// address, the configured listen addresses and the database host. `pool apply` adds pool IPs to an
// interface as root, so naming the gateway or the database here would take that address over.
import { parseDbUrl } from "../db/client.ts";
import type { Config } from "../core/config.ts";
import type { ReservedAddress } from "../policy/ip_pool.ts";

const WILDCARD = new Set(["0.0.0.0", "::", ""]);
const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

type Interfaces = () => { name: string; address: string }[];

export async function reservedPoolAddresses(
  config: Pick<Config, "sshListen" | "rdpListen" | "webListen" | "databaseUrl">,
  interfaces: Interfaces = () => Deno.networkInterfaces(),
): Promise<ReservedAddress[]> {
  const out: ReservedAddress[] = [];
  for (const i of interfaces()) {
    out.push({ ip: i.address, why: `an address of this machine (${i.name})`, configured: false });
  }
  const listens: [string, Config["sshListen"]][] = [
    ["ssh_listen", config.sshListen],
    ["rdp_listen", config.rdpListen],
    ["web_listen", config.webListen],
  ];
  for (const [key, list] of listens) {
    for (const l of list) {
      if (!WILDCARD.has(l.host)) out.push({ ip: l.host, why: `the ${key} address`, configured: true });
    }
  }
  for (const ip of await databaseHosts(config.databaseUrl)) {
    out.push({ ip, why: "the database host", configured: true });
  }
  return out;
}

/** The database server's addresses (none for the embedded cluster, which speaks over a Unix socket). */
async function databaseHosts(url: string | null): Promise<string[]> {
  if (!url) return [];
  let hosts: string[];
  try {
    const p = parseDbUrl(url);
    // ?host=/run/postgresql: a Unix socket, whatever the URL's host says; else every listed host (failover)
    if (p.socketDir !== null) return [];
    hosts = p.hosts.map((h) => decodeURIComponent(h.replace(/:\d+$/, "")).replace(/^\[|\]$/g, ""));
  } catch (_e) {
    return [];
  }
  const found: string[] = [];
  for (const host of hosts) {
    if (host === "" || host.startsWith("/")) continue;
    if (IP_LITERAL.test(host)) found.push(host);
    else if (host === "localhost") found.push("127.0.0.1", "::1");
    else {
      for (const type of ["A", "AAAA"] as const) {
        try {
          found.push(...await Deno.resolveDns(host, type, { signal: AbortSignal.timeout(2000) }));
        } catch (_e) {
          // an unresolvable name names no address to refuse; the database connection reports it
        }
      }
    }
  }
  return found;
}
