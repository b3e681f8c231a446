// A two-member Patroni cluster (Debian packages patroni and etcd-server) on loopback: one etcd, two
// PostgreSQL 15 members managed by Patroni on 127.0.0.62 and 127.0.0.63, synchronous replication, members
// owned by the unprivileged OS user "postgres". For failover tests of jumphost against the tooling operators
// actually run.
import { join } from "node:path";
import { findPgBin } from "../../db/local_pg.ts";
import { requireProgram, spawnPeer } from "./peer.ts";
import { freePort, waitForPort } from "./sshd.ts";

export interface PatroniMember {
  name: string;
  host: string;
  port: number;
  api: number;
  config: string;
  child: Deno.ChildProcess;
}

export interface PatroniCluster {
  members: PatroniMember[];
  /** postgres://postgres@m1,m2/jumphost?target_session_attrs=read-write */
  url: string;
  /** the member Patroni calls the leader (asks the REST API) */
  leader(): Promise<PatroniMember>;
  /** patronictl switchover to the other member; resolves once it leads */
  switchover(): Promise<PatroniMember>;
  close(): Promise<void>;
}

function postgresIds(): { uid: number; gid: number } | null {
  if (Deno.uid() !== 0) return null;
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const f = line.split(":");
    if (f[0] === "postgres") return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error('tests run as root need the OS user "postgres" for PostgreSQL');
}

async function until<T>(what: string, ms: number, f: () => Promise<T | null | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (_e) {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startPatroni(): Promise<PatroniCluster> {
  requireProgram("/usr/bin/patroni", "patroni");
  requireProgram("/usr/bin/etcd", "etcd-server");
  const ids = postgresIds();
  Deno.mkdirSync("/tmp/jumphost-test", { recursive: true, mode: 0o711 });
  const base = await Deno.makeTempDir({ prefix: "patroni-", dir: "/tmp/jumphost-test" });
  if (ids) Deno.chownSync(base, ids.uid, ids.gid);
  const etcdHost = "127.0.0.61";
  const etcdPort = freePort(etcdHost), peerPort = freePort(etcdHost);
  const etcdLog = await Deno.open(join(base, "etcd.log"), { write: true, create: true });
  const etcd = spawnPeer("/usr/bin/etcd", {
    args: [
      "--name=e1",
      `--data-dir=${join(base, "etcd")}`,
      `--listen-client-urls=http://${etcdHost}:${etcdPort}`,
      `--advertise-client-urls=http://${etcdHost}:${etcdPort}`,
      `--listen-peer-urls=http://${etcdHost}:${peerPort}`,
      `--initial-advertise-peer-urls=http://${etcdHost}:${peerPort}`,
      `--initial-cluster=e1=http://${etcdHost}:${peerPort}`,
      "--enable-v2=true",
    ],
    stdout: "null",
    stderr: "piped",
  });
  const etcdLogged = etcd.stderr.pipeTo(etcdLog.writable).catch(() => {});
  const members: PatroniMember[] = [];
  const stopAll = async () => {
    for (const m of members) {
      try {
        m.child.kill("SIGTERM");
      } catch (_e) { /* gone */ }
    }
    for (const m of members) {
      const t = setTimeout(() => {
        try {
          m.child.kill("SIGKILL");
        } catch (_e) { /* gone */ }
      }, 20_000);
      await m.child.status;
      clearTimeout(t);
    }
    // Patroni stops its postmaster; an orphan (Patroni killed) is stopped here
    for (const m of members) {
      await new Deno.Command(join(findPgBin(), "pg_ctl"), {
        args: ["stop", "-m", "immediate", "-D", join(base, m.name)],
        stdout: "null",
        stderr: "null",
        ...(ids ?? {}),
      } as Deno.CommandOptions).output().catch(() => {});
    }
    try {
      etcd.kill("SIGTERM");
    } catch (_e) { /* gone */ }
    await etcd.status;
    await etcdLogged;
  };
  try {
    await waitForPort(etcdHost, etcdPort);
    for (const [i, host] of ["127.0.0.62", "127.0.0.63"].entries()) {
      const name = `pg${i + 1}`;
      const port = freePort(host), api = freePort(host);
      const config = join(base, `${name}.yml`);
      // JSON is YAML
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          scope: "jh",
          name,
          log: { level: "INFO", dir: join(base, `log-${name}`), file_num: 1 },
          restapi: { listen: `${host}:${api}`, connect_address: `${host}:${api}` },
          etcd3: { hosts: [`${etcdHost}:${etcdPort}`] },
          bootstrap: {
            dcs: {
              ttl: 10,
              loop_wait: 1,
              retry_timeout: 5,
              synchronous_mode: true,
              postgresql: {
                parameters: {
                  wal_level: "replica",
                  max_wal_senders: 5,
                  hot_standby: "on",
                  max_connections: 100,
                },
              },
            },
            initdb: [{ encoding: "UTF8" }, { locale: "C" }],
            pg_hba: [
              "local all all trust",
              "host all all 127.0.0.0/8 trust",
              "host replication all 127.0.0.0/8 trust",
            ],
          },
          postgresql: {
            listen: `${host}:${port}`,
            connect_address: `${host}:${port}`,
            data_dir: join(base, name),
            bin_dir: findPgBin(),
            pgpass: join(base, `${name}.pgpass`),
            authentication: {
              superuser: { username: "postgres", password: "pw-super" },
              replication: { username: "replicator", password: "pw-repl" },
            },
            parameters: { unix_socket_directories: base, shared_buffers: "32MB" },
          },
        }),
      );
      Deno.mkdirSync(join(base, `log-${name}`));
      if (ids) {
        Deno.chownSync(config, ids.uid, ids.gid);
        Deno.chownSync(join(base, `log-${name}`), ids.uid, ids.gid);
      }
      const child = spawnPeer("/usr/bin/patroni", {
        args: [config],
        stdout: "null",
        stderr: "null",
        ...(ids ?? {}),
      } as Deno.CommandOptions);
      members.push({ name, host, port, api, config, child });
      // the first bootstraps the cluster before the second clones it
      if (i === 0) {
        await until("the first Patroni member to lead", 90_000, async () => {
          const r = await fetch(`http://${host}:${api}/primary`);
          await r.body?.cancel();
          return r.status === 200;
        });
      }
    }
    await until("the second member to stream synchronously", 90_000, async () => {
      const r = await fetch(`http://${members[0].host}:${members[0].api}/cluster`);
      const c = await r.json() as { members: { name: string; role: string; state: string }[] };
      return c.members.some((m) =>
        m.name === "pg2" && m.role === "sync_standby" && ["running", "streaming"].includes(m.state)
      );
    });
    const psql = join(findPgBin(), "psql");
    const created = await new Deno.Command(psql, {
      args: ["-h", members[0].host, "-p", String(members[0].port), "-U", "postgres", "-d", "postgres", "-c"]
        .concat(["CREATE DATABASE jumphost"]),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!created.success) throw new Error(new TextDecoder().decode(created.stderr));
  } catch (e) {
    await stopAll();
    let logs = "";
    for (const m of members) {
      const log = await Deno.readTextFile(join(base, `log-${m.name}`, "patroni.log")).catch(() => "");
      logs += `\n--- ${m.name}:\n${log.slice(-2500)}`;
    }
    await Deno.remove(base, { recursive: true }).catch(() => {});
    throw new Error(`${(e as Error).message}${logs}`);
  }
  const leader = async () => {
    for (const m of members) {
      const r = await fetch(`http://${m.host}:${m.api}/primary`).catch(() => null);
      await r?.body?.cancel();
      if (r?.status === 200) return m;
    }
    throw new Error("no leader");
  };
  return {
    members,
    url: `postgres://postgres@${members[0].host}:${members[0].port},${members[1].host}:${members[1].port}` +
      "/jumphost?target_session_attrs=read-write",
    leader,
    async switchover() {
      const from = await leader();
      const to = members.find((m) => m !== from)!;
      const o = await new Deno.Command("/usr/bin/patronictl", {
        args: ["-c", from.config, "switchover", "--leader", from.name, "--candidate", to.name, "--force"],
        stdout: "piped",
        stderr: "piped",
        ...(ids ?? {}),
      } as Deno.CommandOptions).output();
      if (!o.success) {
        throw new Error(new TextDecoder().decode(o.stderr) + new TextDecoder().decode(o.stdout));
      }
      return await until("the switchover", 60_000, async () => (await leader()) === to && to);
    },
    async close() {
      await stopAll();
      await Deno.remove(base, { recursive: true }).catch(() => {});
    },
  };
}
