// Policy engine benchmark: snapshot build time and decide() latency at appliance scale.
//   deno run -A bench/policy/bench_policy.ts [--requests N] [--seed S]
// Deterministic (seeded PRNG), bounded (~seconds). Exits 1 if decide() p99 misses the 1 ms target.

import process from "node:process";
import {
  buildSnapshot,
  decide,
  formatIp,
  type Policy,
  type Protocol,
  type Server,
  serversAllowedFor,
  type User,
} from "../../policy/mod.ts";
import { generateWorld, requestStream, type World } from "./world.ts";

const TARGET_P99_MS = 1;

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

function percentiles(samplesNs: Float64Array): { p50: number; p99: number; max: number; mean: number } {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e6;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length / 1e6;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] / 1e6, mean };
}

const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);

function describe(world: World): string {
  const sources = world.users.reduce((n: number, u: User) => n + u.sourceCidrs.length, 0);
  const groupPolicies = world.policies.filter((p: Policy) => p.subject.kind === "user_group").length;
  const scopePolicies = world.policies.filter((p: Policy) => p.scope.kind === "server_group").length;
  return `${world.users.length} users (${sources} source CIDRs), ${world.servers.length} servers in ` +
    `${world.serverGroups} groups, ${world.policies.length} policies ` +
    `(${groupPolicies} on user groups, ${scopePolicies} on server groups)`;
}

const seed = arg("seed", 20250601);
const requests = arg("requests", 100_000);
const now = new Date("2025-06-01T12:00:00Z");

const genStart = performance.now();
const world = generateWorld(seed, now);
console.log(`world:    ${describe(world)} (generated in ${(performance.now() - genStart).toFixed(0)} ms)`);

const heapBefore = Deno.memoryUsage().heapUsed;
const buildStart = performance.now();
const snapshot = buildSnapshot({ users: world.users, servers: world.servers, policies: world.policies });
const buildMs = performance.now() - buildStart;
const heapMb = (Deno.memoryUsage().heapUsed - heapBefore) / 1048576;
console.log(
  `build:    ${buildMs.toFixed(0)} ms, ~${heapMb.toFixed(0)} MB heap, ${snapshot.warnings.length} warnings`,
);

// Warm up the JIT on a separate stream so the measured run sees steady state.
for (const req of requestStream(world, seed + 1, 20_000)) decide(snapshot, req.request, now, req.opts);

const samples = new Float64Array(requests);
const outcomes = new Map<string, number>();
let i = 0;
for (const req of requestStream(world, seed + 2, requests)) {
  const t0 = process.hrtime.bigint();
  const d = decide(snapshot, req.request, now, req.opts);
  samples[i++] = Number(process.hrtime.bigint() - t0);
  const key = d.allowed ? "allow" : d.reason;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}
const lat = percentiles(samples);
console.log(
  `decide(): ${requests} requests  p50 ${fmtMs(lat.p50)}  p99 ${fmtMs(lat.p99)}  max ${fmtMs(lat.max)}  ` +
    `mean ${fmtMs(lat.mean)}`,
);
const mix = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) =>
  `${k} ${(100 * n / requests).toFixed(1)}%`
);
console.log(`outcomes: ${mix.join(", ")}`);

// Routing helper: "which servers may this source reach" (scans all of a user's policies).
const routeSamples = new Float64Array(10_000);
let reachable = 0;
for (let j = 0; j < routeSamples.length; j++) {
  const u = world.users[(j * 7919) % world.users.length];
  const ip = formatIp({ family: 4, value: world.primaryIp.get(u.id)! });
  const protocol: Protocol = j % 2 ? "ssh" : "rdp";
  const t0 = process.hrtime.bigint();
  const servers: Server[] = serversAllowedFor(snapshot, ip, protocol, now);
  routeSamples[j] = Number(process.hrtime.bigint() - t0);
  reachable += servers.length;
}
const route = percentiles(routeSamples);
console.log(
  `serversAllowedFor(): 10000 lookups  p50 ${fmtMs(route.p50)}  p99 ${fmtMs(route.p99)}  ` +
    `max ${fmtMs(route.max)}  (avg ${(reachable / routeSamples.length).toFixed(1)} servers)`,
);

const met = lat.p99 < TARGET_P99_MS;
console.log(`target:   decide() p99 < ${TARGET_P99_MS} ms: ${met ? "MET" : "NOT MET"} (${fmtMs(lat.p99)})`);
if (!met) Deno.exit(1);
