// `jumphost pool apply` against the real loopback interface with 127.x addresses (root; cleaned up after).
import assert from "node:assert/strict";
import { cliFor } from "./helpers/cli.ts";
import { createTestDb } from "./helpers/test_db.ts";

const POOL = "127.77.91.0/29";

async function loAddrs(): Promise<string[]> {
  const o = await new Deno.Command("ip", { args: ["-j", "addr", "show", "dev", "lo"], stdout: "piped" })
    .output();
  const links = JSON.parse(new TextDecoder().decode(o.stdout)) as {
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return links.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

async function cleanup() {
  for (const a of (await loAddrs()).filter((x) => x.startsWith("127.77.91."))) {
    await new Deno.Command("ip", { args: ["addr", "del", a, "dev", "lo"], stderr: "null" }).output();
  }
}

Deno.test({
  name: "pool apply puts pool IPs on lo, removes released ones, and is idempotent",
  ignore: Deno.uid() !== 0,
  async fn() {
    const db = await createTestDb();
    const cli = cliFor(db.url, { JUMPHOST_IP_POOL: POOL });
    await cleanup();
    try {
      await cli.ok(["server", "add", "s1", "127.0.0.1", "--pool-ip", "auto"]);
      await cli.ok(["server", "add", "s2", "127.0.0.1", "--pool-ip", "auto"]);

      const dry = await cli.ok(["pool", "apply", "--dev", "lo", "--dry-run"]);
      assert.match(dry, /would add 127\.77\.91\.1 to lo \(s1\)/);
      assert.match(dry, /would add 127\.77\.91\.2 to lo \(s2\)/);
      assert.deepEqual((await loAddrs()).filter((a) => a.startsWith("127.77.91.")), []);
      const doctorBefore = await cli.run(["doctor", "--json"]);
      const before = JSON.parse(doctorBefore.stdout) as {
        checks: { check: string; status: string; detail: string }[];
      };
      const poolBefore = before.checks.find((c) => c.check === "pool IPs")!;
      assert.equal(poolBefore.status, "fail");
      assert.match(poolBefore.detail, /2 of 2 missing: 127\.77\.91\.1 \(s1\), 127\.77\.91\.2 \(s2\)/);

      const applied = await cli.ok(["pool", "apply"]); // default device: lo
      assert.match(applied, /added 127\.77\.91\.1 to lo/);
      assert.match(applied, /0 already present, 2 added, 0 removed on lo/);
      const present = await loAddrs();
      assert.ok(present.includes("127.77.91.1/32") && present.includes("127.77.91.2/32"), present.join(" "));
      const after = JSON.parse((await cli.run(["doctor", "--json"])).stdout) as {
        checks: { check: string; status: string }[];
      };
      assert.equal(after.checks.find((c) => c.check === "pool IPs")?.status, "ok");
      const list = await cli.json<{ ip: string; server: string; interface: string | null }[]>([
        "pool",
        "list",
      ]);
      assert.deepEqual(list.map((r) => [r.ip, r.server, r.interface]).sort(), [
        ["127.77.91.1", "s1", "lo"],
        ["127.77.91.2", "s2", "lo"],
      ]);

      // deleting a server releases its pool IP; the next apply takes it off the interface
      await cli.ok(["server", "delete", "s2"]);
      const removed = await cli.json<{ changes: { action: string; ip: string }[] }>(["pool", "apply"]);
      assert.deepEqual(removed.changes, [{ action: "remove", ip: "127.77.91.2" }]);
      const now = await loAddrs();
      assert.ok(now.includes("127.77.91.1/32") && !now.includes("127.77.91.2/32"), now.join(" "));
      assert.match(await cli.ok(["pool", "apply"]), /1 already present, 0 added, 0 removed on lo/);

      const bad = await cli.run(["pool", "apply", "--dev", "nosuchdev0"]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /no network interface "nosuchdev0"/);
      const badName = await cli.run(["pool", "apply", "--dev", "x; rm -rf /"]);
      assert.equal(badName.code, 2);
    } finally {
      await cleanup();
      await db.close();
    }
  },
});
