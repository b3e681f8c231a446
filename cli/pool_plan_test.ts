import assert from "node:assert/strict";
import { ipWithHostPrefix, planPool } from "./pool_plan.ts";
import type { IfAddr } from "../app/net_probe.ts";

const addrs: IfAddr[] = [
  { ifname: "lo", family: "inet", local: "127.0.0.1", prefixlen: 8 },
  { ifname: "lo", family: "inet", local: "10.9.0.1", prefixlen: 32 },
  { ifname: "eth0", family: "inet", local: "10.9.0.2", prefixlen: 24 },
  { ifname: "lo", family: "inet", local: "10.9.0.7", prefixlen: 32 },
  { ifname: "lo", family: "inet", local: "10.9.0.8", prefixlen: 24 },
  { ifname: "eth0", family: "inet", local: "10.9.0.9", prefixlen: 32 },
];

Deno.test("planPool() adds missing pool IPs and removes only released host addresses on the device", () => {
  const plan = planPool(
    [
      { ip: "10.9.0.1", server: "a" }, // already on lo
      { ip: "10.9.0.2", server: "b" }, // on eth0: routable, leave it
      { ip: "10.9.0.3", server: "c" }, // missing
      { ip: "10.9.0.3", server: "c" }, // duplicates are planned once
    ],
    [
      "10.9.0.7", // released, /32 on lo → remove
      "10.9.0.8", // released but configured with a real prefix → never touched
      "10.9.0.9", // released but on another device → not ours to remove
      "10.9.0.1", // released once, allocated again since → kept
      "10.9.0.4", // released and absent → nothing to do
    ],
    addrs,
    "lo",
  );
  assert.deepEqual(plan.add, [{ ip: "10.9.0.3", server: "c" }]);
  assert.deepEqual(plan.remove.map((r) => r.local), ["10.9.0.7"]);
  assert.deepEqual(plan.present.map((p) => [p.ip, p.ifname]), [["10.9.0.1", "lo"], ["10.9.0.2", "eth0"]]);
});

Deno.test("ipWithHostPrefix() uses /32 for IPv4 and /128 for IPv6", () => {
  assert.equal(ipWithHostPrefix("10.0.0.1"), "10.0.0.1/32");
  assert.equal(ipWithHostPrefix("fd00::5"), "fd00::5/128");
});
