// The embedded default: no database URL → a private cluster under the data dir, socket only, stopped on
// SIGTERM, recovering from a stale postmaster.pid.
import assert from "node:assert/strict";
import { jh, MAIN } from "./helpers/cli.ts";
import { spawnCollected } from "./helpers/process.ts";

function tempDataDir(): string {
  Deno.mkdirSync("/tmp/jumphost-test", { recursive: true, mode: 0o711 });
  return Deno.makeTempDirSync({ dir: "/tmp/jumphost-test", prefix: "emb-" });
}

function postmasterRunning(dir: string): boolean {
  try {
    const pid = Number(Deno.readTextFileSync(`${dir}/pg/postmaster.pid`).split("\n")[0]);
    return Deno.readTextFileSync(`/proc/${pid}/comm`).startsWith("postgres");
  } catch (_e) {
    return false;
  }
}

Deno.test("serve runs on an embedded PostgreSQL and stops it on SIGTERM", async () => {
  const dir = tempDataDir();
  const serve = spawnCollected(Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--data-dir",
    dir,
    "--log-level",
    "info",
  ], {
    env: { JUMPHOST_DATABASE_URL: "" },
  });
  try {
    const log = await serve.waitFor(/"msg":"ready"/, 90_000);
    assert.match(log, /initialising embedded PostgreSQL/);
    assert.ok(postmasterRunning(dir));
    assert.equal(Deno.statSync(`${dir}/pg`).mode! & 0o777, 0o700);
    if (Deno.uid() === 0) {
      // the data dir (a 0700 temp dir) had to become traversable for the "postgres" user: said, not silent
      assert.equal(Deno.statSync(dir).mode! & 0o777, 0o701);
      const warn = log.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
        .find((l) => l.level === "warn" && /added o\+x/.test(l.msg));
      assert.ok(warn, log);
      assert.equal(warn.directory, dir);
      assert.deepEqual([warn.old_mode, warn.new_mode, warn.os_user], ["700", "701", "postgres"]);
      assert.match(warn.msg, /OS user "postgres", which must pass through it/);
    }
    // the CLI reuses the running cluster (and leaves it running)
    const r = await jh(["user", "add", "zed", "--source-ip", "127.0.0.77", "--data-dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(postmasterRunning(dir), "CLI must not stop the cluster serve started");
    // socket only: no TCP listener
    const psql = await new Deno.Command("/usr/lib/postgresql/15/bin/psql", {
      args: ["-h", `${dir}/pg`, "-U", "jumphost", "-d", "jumphost", "-tAc", "SHOW listen_addresses"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(psql.stdout).trim(), "");
  } finally {
    const status = await serve.stop();
    assert.equal(status.code, 0, serve.output());
  }
  assert.equal(postmasterRunning(dir), false, "embedded PostgreSQL stopped with serve");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a stale postmaster.pid left by a crash does not stop the next start", async () => {
  const dir = tempDataDir();
  assert.equal((await jh(["migrate", "--data-dir", dir], { env: { JUMPHOST_DATABASE_URL: "" } })).code, 0);
  assert.equal(postmasterRunning(dir), false, "a CLI command stops the cluster it started");
  // simulate a crash: a lock file naming a process that is not postgres
  const stale = `${Deno.pid}\n${dir}/pg\n0\n5432\n${dir}/pg\n\n  5432001  0\nready\n`;
  Deno.writeTextFileSync(`${dir}/pg/postmaster.pid`, stale);
  const r = await jh(["user", "list", "--data-dir", dir], { env: { JUMPHOST_DATABASE_URL: "" } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(none\)/);
  Deno.removeSync(dir, { recursive: true });
});
