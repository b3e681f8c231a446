// A PostgreSQL 15 primary and a streaming-replication standby on loopback TCP (127.0.0.21 / 127.0.0.22),
// owned by the unprivileged OS user "postgres" when the tests run as root (PostgreSQL refuses root). The
// primary commits synchronously to the standby (synchronous_standby_names given on its command line only,
// so the promoted standby does not wait for a standby of its own): nothing it acknowledged can be lost.
import { join } from "node:path";
import { findPgBin } from "../../db/local_pg.ts";
import { freePort } from "./sshd.ts";

export interface PgNode {
  host: string;
  port: number;
  dir: string;
}

export interface PgPair {
  primary: PgNode;
  standby: PgNode;
  /** postgres://jumphost@primary,standby/jumphost?target_session_attrs=read-write */
  url: string;
  /** pg_ctl stop -m immediate on the primary (a crash: no shutdown checkpoint) */
  stopPrimary(): Promise<void>;
  /** pg_ctl promote on the standby */
  promoteStandby(): Promise<void>;
  close(): Promise<void>;
}

function owner(): { uid: number; gid: number } | null {
  if (Deno.uid() !== 0) return null;
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const f = line.split(":");
    if (f[0] === "postgres") return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error('tests run as root need the OS user "postgres" for PostgreSQL');
}

async function run(cmd: string, args: string[]): Promise<string> {
  const ids = owner();
  const o = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(ids ?? {}),
  } as Deno.CommandOptions).output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`${cmd} ${args.join(" ")} exited ${o.code}:\n${text}`);
  return text;
}

export async function startPgPair(): Promise<PgPair> {
  const bin = findPgBin();
  Deno.mkdirSync("/tmp/jumphost-test", { recursive: true, mode: 0o711 });
  const base = await Deno.makeTempDir({ prefix: "pgpair-", dir: "/tmp/jumphost-test" });
  const ids = owner();
  if (ids) Deno.chownSync(base, ids.uid, ids.gid);
  const primary: PgNode = { host: "127.0.0.21", port: freePort("127.0.0.21"), dir: join(base, "primary") };
  const standby: PgNode = { host: "127.0.0.22", port: freePort("127.0.0.22"), dir: join(base, "standby") };
  const start = (n: PgNode, extra: string) =>
    run(join(bin, "pg_ctl"), [
      "start",
      "-w",
      "-t",
      "60",
      "-D",
      n.dir,
      "-l",
      join(n.dir, "server.log"),
      "-o",
      `-c listen_addresses=${n.host} -c port=${n.port} -c unix_socket_directories='${n.dir}' ` +
      `-c max_connections=100 -c shared_buffers=32MB -c wal_level=replica -c max_wal_senders=4 ` +
      `-c hot_standby=on ${extra}`,
    ]);
  await run(join(bin, "initdb"), [
    "-D",
    primary.dir,
    "-U",
    "jumphost",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  // loopback only, trust: throwaway clusters for this test
  await Deno.writeTextFile(
    join(primary.dir, "pg_hba.conf"),
    "local all all trust\nhost all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n",
  );
  await start(primary, "-c synchronous_standby_names='*'");
  await run(join(bin, "pg_basebackup"), [
    "-h",
    primary.host,
    "-p",
    String(primary.port),
    "-U",
    "jumphost",
    "-D",
    standby.dir,
    "-R",
    "-X",
    "stream",
  ]);
  await start(standby, "");
  await run(join(bin, "psql"), [
    "-h",
    primary.host,
    "-p",
    String(primary.port),
    "-U",
    "jumphost",
    "-d",
    "postgres",
    "-c",
    "CREATE DATABASE jumphost",
  ]);
  const stop = (n: PgNode, mode: string) =>
    run(join(bin, "pg_ctl"), ["stop", "-w", "-m", mode, "-D", n.dir]).catch(() => "");
  return {
    primary,
    standby,
    url: `postgres://jumphost@${primary.host}:${primary.port},${standby.host}:${standby.port}/jumphost` +
      "?target_session_attrs=read-write",
    stopPrimary: async () => {
      await stop(primary, "immediate");
    },
    promoteStandby: async () => {
      await run(join(bin, "pg_ctl"), ["promote", "-w", "-D", standby.dir]);
    },
    async close() {
      await stop(standby, "fast");
      await stop(primary, "fast");
      await Deno.remove(base, { recursive: true }).catch(() => {});
    },
  };
}
