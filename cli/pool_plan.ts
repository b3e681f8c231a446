// Pure: which pool IPs `jumphost pool apply` adds to the interface and which released ones it removes.
import type { IfAddr } from "../app/net_probe.ts";

export interface PoolWanted {
  ip: string;
  server: string;
}

export interface PoolPlan {
  add: PoolWanted[];
  /** released pool IPs still configured on the device as host addresses */
  remove: IfAddr[];
  /** wanted IPs already on some interface */
  present: (PoolWanted & { ifname: string })[];
}

function hostPrefix(ip: string): number {
  return ip.includes(":") ? 128 : 32;
}

export function planPool(wanted: PoolWanted[], released: string[], addrs: IfAddr[], dev: string): PoolPlan {
  const wantedIps = new Set(wanted.map((w) => w.ip));
  const plan: PoolPlan = { add: [], remove: [], present: [] };
  const seen = new Set<string>();
  for (const w of wanted) {
    if (seen.has(w.ip)) continue;
    seen.add(w.ip);
    const on = addrs.find((a) => a.local === w.ip);
    if (on) plan.present.push({ ...w, ifname: on.ifname });
    else plan.add.push(w);
  }
  // only host routes (/32, /128) on our device: never an address someone configured with a real prefix
  for (const ip of new Set(released)) {
    if (wantedIps.has(ip)) continue;
    const a = addrs.find((x) => x.local === ip && x.ifname === dev && x.prefixlen === hostPrefix(ip));
    if (a) plan.remove.push(a);
  }
  return plan;
}

export function ipWithHostPrefix(ip: string): string {
  return `${ip}/${hostPrefix(ip)}`;
}
