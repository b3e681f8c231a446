// One user granted one real sshd, as the appliance serves it: user "wendy" identified by source IP and key,
// server "web1" (no pool IP), a policy valid for the next hour, and the appliance's own key for web1
// under <dataDir>/ssh/backend_keys that the sshd accepts.
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { createPolicy } from "../../db/policies.ts";
import { createServer } from "../../db/servers.ts";
import { createUser } from "../../db/users.ts";
import { type KeyPair, makeKey, type Sshd } from "./sshd.ts";

export async function grantWeb1(
  sql: Sql,
  o: { sshd: Sshd; sourceIp: string; keyDir: string; dataDir: string },
): Promise<KeyPair> {
  const key = await makeKey(o.keyDir, "client");
  await createUser(sql, { name: "wendy", sourceIps: [{ cidr: o.sourceIp }], sshKeys: [key.pub] }, "test");
  await createServer(
    sql,
    { name: "web1", address: o.sshd.host, sshPort: o.sshd.port, poolIp: "none" },
    "test",
    null,
  );
  await createPolicy(sql, {
    user: "wendy",
    server: "web1",
    validFrom: new Date(Date.now() - 60_000),
    validUntil: new Date(Date.now() + 3_600_000),
  }, "test");
  const backendKeys = join(o.dataDir, "ssh", "backend_keys");
  await Deno.mkdir(backendKeys, { recursive: true, mode: 0o700 });
  const appliance = await makeKey(backendKeys, "web1");
  await Deno.writeTextFile(join(o.sshd.dir, "authorized", o.sshd.user), appliance.pub + "\n", {
    append: true,
  });
  return key;
}
