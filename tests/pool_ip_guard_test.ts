// Explicit pool IPs through the CLI: only inside ip_pool (none configured: refused, saying to set it), never
// an address of this machine or one the configuration names; automatic allocation skips those too.
import assert from "node:assert/strict";
import { cliFor } from "./helpers/cli.ts";
import { createTestDb } from "./helpers/test_db.ts";

const outside = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.") && !i.address.startsWith("169.254.")
);

Deno.test("server add/edit: explicit pool IPs only from ip_pool, never the machine's or configured addresses", async () => {
  const db = await createTestDb();
  try {
    const noPool = cliFor(db.url);
    const refused = await noPool.run(["server", "add", "s0", "10.0.0.5", "--pool-ip", "127.0.8.1"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no IP pool is configured: set ip_pool/);

    const cli = cliFor(db.url, { JUMPHOST_IP_POOL: "127.0.0.0/8", JUMPHOST_SSH_LISTEN: "127.0.8.8:2222" });
    const own = await cli.run(["server", "add", "s1", "10.0.0.5", "--pool-ip", "127.0.0.1"]);
    assert.equal(own.code, 1);
    assert.match(own.stderr, /pool IP 127\.0\.0\.1 is an address of this machine \(lo\)/);
    const listen = await cli.run(["server", "add", "s1", "10.0.0.5", "--pool-ip", "127.0.8.8"]);
    assert.equal(listen.code, 1);
    assert.match(listen.stderr, /127\.0\.8\.8 is the ssh_listen address/);
    const out = await cli.run(["server", "add", "s1", "10.0.0.5", "--pool-ip", "10.9.9.9"]);
    assert.match(out.stderr, /outside the pool 127\.0\.0\.0\/8/);

    const ok = await cli.json<{ pool_ip: string }>([
      "server",
      "add",
      "s1",
      "10.0.0.5",
      "--pool-ip",
      "127.0.8.1",
    ]);
    assert.equal(ok.pool_ip, "127.0.8.1");
    const edit = await cli.run(["server", "edit", "s1", "--pool-ip", "127.0.0.1"]);
    assert.equal(edit.code, 1);
    assert.match(edit.stderr, /an address of this machine/);
    assert.equal((await cli.json<{ pool_ip: string }>(["server", "show", "s1"])).pool_ip, "127.0.8.1");

    // automatic allocation from a pool whose first host is lo's own address takes the next one
    const small = cliFor(db.url, { JUMPHOST_IP_POOL: "127.0.0.0/29" });
    const auto = await small.json<{ pool_ip: string }>([
      "server",
      "add",
      "s2",
      "10.0.0.6",
      "--pool-ip",
      "auto",
    ]);
    assert.equal(auto.pool_ip, "127.0.0.2");

    if (outside) {
      // the machine's other interfaces too (the address a gateway or a neighbour would have)
      const net = cliFor(db.url, { JUMPHOST_IP_POOL: `${outside.address}/32` });
      const r = await net.run(["server", "add", "s3", "10.0.0.7", "--pool-ip", outside.address]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`an address of this machine \\(${outside.name}\\)`));
    }
    const rows = await db.sql<{ ip: string }[]>`SELECT host(ip) AS ip FROM ip_allocations ORDER BY ip`;
    assert.deepEqual(rows.map((r) => r.ip), ["127.0.0.2", "127.0.8.1"]);
  } finally {
    await db.close();
  }
});
