// The console app for the benchmark, logged in as an auditor (the role that reads the most pages).
import type { Sql } from "../../db/client.ts";
import { createConsoleUser } from "../../db/console_users.ts";
import { hashPassword } from "../../policy/password.ts";
import { createApp } from "../../web/app.ts";
import { Client } from "../../web/testing.ts";

export async function fixtureApp(sql: Sql) {
  const app = createApp({
    sql,
    nodeId: "bench",
    log: (level, m) => level === "error" && console.error(m),
    listenerStatus: () => [{ name: "ssh", address: "0.0.0.0:22", state: "up" }],
    killSession: () => Promise.resolve(false),
  });
  await createConsoleUser(sql, {
    name: "bench",
    role: "auditor",
    passwordHash: await hashPassword("bench-pw"),
  }, {
    actor: "bench",
  });
  const c = new Client(app, "127.0.0.1");
  const r = await c.login("bench", "bench-pw");
  if (r.status !== 303) throw new Error(`login failed: ${r.status}`);
  return {
    get: (path: string) => c.get(path),
    close: () => Promise.resolve(),
  };
}
