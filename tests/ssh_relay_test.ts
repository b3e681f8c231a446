// e2e: real OpenSSH clients → the proxy → a real sshd. Exec, stdin/EOF, exit status, routing, PTY shell
// with recording, scp (SFTP and legacy protocol) and sftp, sessions rows, metadata and audit rows.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, runCmd, scp, sftpBatch, sha256File, ssh, sshWith } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { asciinema } from "./helpers/asciinema.ts";
import { clientArgs } from "./helpers/ssh_clients.ts";

interface Row {
  session_id: string;
  is_active: boolean;
  termination_reason: string | null;
  ssh_login: string;
  server_name: string;
  user_name: string;
  source_ip: string;
  proxy_ip: string;
  subsystem: string | null;
  recording_path: string | null;
  recording_size: number | null;
  duration_seconds: number | null;
  metadata: {
    route: string;
    backend_auth: string;
    jump_auth: string;
    channels: {
      type: string;
      command?: string;
      subsystem?: string;
      exit?: { status?: number; signal?: string };
    }[];
    transfers: { protocol: string; op: string; path: string; bytes: number; sha256?: string }[];
  };
}

async function waitClosed(sql: import("../db/client.ts").Sql, n: number): Promise<Row[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const rows = await sql<
      Row[]
    >`SELECT session_id, is_active, termination_reason, ssh_login, server_name, user_name,
      host(source_ip) AS source_ip, host(proxy_ip) AS proxy_ip, subsystem, recording_path, recording_size,
      duration_seconds, metadata FROM sessions ORDER BY id`;
    if (rows.length >= n && rows.every((r) => !r.is_active)) return rows;
    if (Date.now() > until) throw new Error(`sessions not closed: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("ssh relay: exec, routing, PTY shell recorded, scp and sftp through the proxy", async (t) => {
  const env = await startSshEnv({ extraHosts: ["127.0.3.1"] });
  const tmux = new Tmux("relay");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1", { poolIp: "127.0.3.1" });
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };
    const U = env.sshd.user;
    let sessions = 0;

    await t.step(
      "exec relays stdout, stderr and the exit status; the host key is pinned on first use",
      async () => {
        const r = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo out; echo err >&2; exit 3"]);
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stdout, "out\n");
        assert.match(r.stderr, /^err$/m);
        sessions++;
        const [row] = await waitClosed(env.db.sql, sessions);
        assert.equal(row.termination_reason, "normal");
        assert.equal(row.ssh_login, U);
        assert.equal(row.user_name, "alice");
        assert.equal(row.source_ip, "127.0.0.10");
        assert.equal(row.metadata.route, "name");
        assert.equal(row.metadata.backend_auth, "appliance_key");
        assert.equal(row.metadata.jump_auth, "publickey");
        assert.deepEqual(row.metadata.channels.map((c) => [c.type, c.command, c.exit?.status]), [
          ["exec", "echo out; echo err >&2; exit 3", 3],
        ]);
        const [srv] = await env.db.sql<
          { host_key: string }[]
        >`SELECT host_key FROM servers WHERE name = 'web1'`;
        assert.equal(srv.host_key, env.sshd.hostKey);
        const actions =
          (await env.db.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE action LIKE 'ssh.%'
        OR action = 'server.host_key_pinned' ORDER BY id`).map((a) => a.action);
        assert.deepEqual(actions, [
          "ssh.access_granted",
          "server.host_key_pinned",
          "ssh.session_start",
          "ssh.session_end",
        ]);
      },
    );

    await t.step("stdin is relayed to the end and EOF reaches the backend", async () => {
      const data = new Uint8Array(3_000_000).map((_, i) => i % 251);
      const r = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["wc -c; sha256sum"], { stdin: data });
      sessions++;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^3000000\n/);
    });

    await t.step("routes by pool IP, by -l login@server and to the only allowed server", async () => {
      const byPool = await ssh(me, env.port, "127.0.3.1", U, ["echo pool"]);
      assert.equal(byPool.stdout, "pool\n", byPool.stderr);
      const byL = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, ["echo named"]);
      assert.equal(byL.stdout, "named\n", byL.stderr);
      const only = await ssh(me, env.port, "127.0.0.1", U, ["echo only"]);
      assert.equal(only.stdout, "only\n", only.stderr);
      sessions += 3;
      const rows = await waitClosed(env.db.sql, sessions);
      assert.deepEqual(rows.slice(-3).map((r) => [r.metadata.route, r.proxy_ip]), [
        ["pool_ip", "127.0.3.1"],
        ["name", "127.0.0.1"],
        ["only_server", "127.0.0.1"],
      ]);
    });

    await t.step(
      "a PTY shell shows the banner, follows window changes and is recorded as asciicast",
      async () => {
        const c = await clientArgs(me);
        await tmux.start(
          ["ssh", ...c.args, "-tt", "-p", String(env.port), `${U}@web1@127.0.0.1`],
          c.env,
          100,
          30,
        );
        await tmux.waitFor(/access until .* this session is recorded/);
        await tmux.type("stty size; echo marker-$((6*7))\n");
        await tmux.waitFor(/^30 100$/m);
        await tmux.waitFor(/^marker-42$/m);
        await tmux.resize(120, 40);
        await tmux.type("stty size\n");
        await tmux.waitFor(/^40 120$/m);
        await tmux.type("sleep 30\n");
        await new Promise((r) => setTimeout(r, 300));
        await tmux.keys("C-c");
        await tmux.type("echo after-$((1+1)); exit 7\n");
        await tmux.waitFor(/\[exit 7\]/);
        sessions++;
        const rows = await waitClosed(env.db.sql, sessions);
        const row = rows[rows.length - 1];
        assert.ok(row.recording_path);
        assert.equal((await Deno.stat(row.recording_path!)).mode! & 0o777, 0o600);
        assert.equal(row.recording_size, (await Deno.stat(row.recording_path!)).size);
        const text = await Deno.readTextFile(row.recording_path!);
        const lines = text.trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(lines[0].version, 2);
        assert.equal(lines[0].width, 100);
        assert.ok(lines.some((e) => e[1] === "r" && e[2] === "120x40"), "resize event recorded");
        assert.ok(lines.some((e) => e[1] === "i" && String(e[2]).includes("stty size")), "input recorded");
        const played = await asciinema("cat", row.recording_path!);
        assert.match(played, /this session is recorded/);
        assert.match(played, /marker-42/);
        assert.match(played, /after-2/);
        assert.match(await asciinema("play", row.recording_path!), /marker-42/);
        const [rec] = await env.db.sql<{ path: string; size: number; channel: string }[]>`
        SELECT path, size, channel FROM recordings ORDER BY id DESC LIMIT 1`;
        assert.equal(rec.path, row.recording_path);
        assert.equal(rec.channel, "shell");
        assert.equal(Number(rec.size), row.recording_size);
      },
    );

    await t.step(
      "a shell without a terminal is recorded too, and gets no banner; env is passed on",
      async () => {
        const r = await sshWith(
          me,
          env.port,
          "127.0.0.1",
          `${U}@web1`,
          ["-T", "-o", "SetEnv=JH_COLOR=blue"],
          [],
          {
            stdin: "echo hi-$((2+3)) $JH_COLOR\nexit 4\n",
          },
        );
        assert.equal(r.code, 4, r.stderr);
        assert.equal(r.stdout, "hi-5 blue\n");
        sessions++;
        const rows = await waitClosed(env.db.sql, sessions);
        const row = rows[rows.length - 1];
        assert.ok(row.recording_path);
        assert.match(await asciinema("cat", row.recording_path!), /hi-5 blue/);
        assert.deepEqual(row.metadata.channels.map((c) => c.type), ["shell"]);
      },
    );

    const data = join(env.dir, "payload.bin");
    await Deno.writeFile(data, crypto.getRandomValues(new Uint8Array(65536)).map((b) => b));
    const big = new Uint8Array(2_500_000);
    for (let i = 0; i < big.length; i += 65536) {
      big.set(crypto.getRandomValues(new Uint8Array(65536)).subarray(0, Math.min(65536, big.length - i)), i);
    }
    await Deno.writeFile(data, big);
    const want = await sha256File(data);
    const home = `/home/${U}`;

    for (const legacy of [false, true]) {
      const mode = legacy ? "legacy scp protocol (-O)" : "SFTP protocol";
      await t.step(`scp uploads and downloads with checksums (${mode})`, async () => {
        const extra = legacy ? ["-O"] : [];
        const remote = `${home}/up-${legacy ? "o" : "s"}.bin`;
        const up = await scp(me, env.port, [...extra, data, `${U}@web1@127.0.0.1:${remote}`]);
        assert.equal(up.code, 0, up.stderr);
        const back = join(env.dir, `back-${legacy}.bin`);
        const down = await scp(me, env.port, [...extra, `${U}@web1@127.0.0.1:${remote}`, back]);
        assert.equal(down.code, 0, down.stderr);
        assert.equal(await sha256File(back), want);
        sessions += 2;
        const rows = await waitClosed(env.db.sql, sessions);
        const [u, d] = rows.slice(-2);
        assert.equal(u.subsystem, legacy ? "scp" : "sftp");
        const proto = legacy ? "scp" : "sftp";
        // the content's SHA-256, as the proxy saw it pass, equals the file's
        assert.deepEqual(u.metadata.transfers.filter((x) => x.bytes > 0), [
          { protocol: proto, op: legacy ? "upload" : "write", path: remote, bytes: big.length, sha256: want },
        ]);
        assert.deepEqual(d.metadata.transfers.filter((x) => x.bytes > 0), [
          {
            protocol: proto,
            op: legacy ? "download" : "read",
            path: legacy ? `up-o.bin` : remote,
            bytes: big.length,
            sha256: want,
          },
        ]);
      });
    }

    await t.step("sftp batch: put, ls, rename, get, rm", async () => {
      const batch = [
        `put ${data} ${home}/b1.bin`,
        `ls -l ${home}/b1.bin`,
        `rename ${home}/b1.bin ${home}/b2.bin`,
        `get ${home}/b2.bin ${env.dir}/b2.bin`,
        `rm ${home}/b2.bin`,
      ].join("\n") + "\n";
      const r = await sftpBatch(me, env.port, `${U}@web1@127.0.0.1`, batch);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /b1\.bin/);
      assert.equal(await sha256File(join(env.dir, "b2.bin")), want);
      const gone = await ssh(me, env.port, "127.0.0.1", `${U}@web1`, [`test -e ${home}/b2.bin; echo $?`]);
      assert.equal(gone.stdout, "1\n");
      sessions += 2;
      const rows = await waitClosed(env.db.sql, sessions);
      const s = rows[rows.length - 2];
      assert.equal(s.subsystem, "sftp");
      const ops = s.metadata.transfers.map((x) => `${x.op} ${x.path.replace(home + "/", "")} ${x.bytes}`);
      assert.ok(ops.includes(`write b1.bin ${big.length}`), ops.join("; "));
      assert.ok(ops.includes(`rename b1.bin 0`), ops.join("; "));
      assert.ok(
        s.metadata.transfers.some((x) => x.op === "rename" && (x as { to?: string }).to === `${home}/b2.bin`),
      );
      assert.ok(ops.includes(`read b2.bin ${big.length}`), ops.join("; "));
      assert.ok(ops.includes(`remove b2.bin 0`), ops.join("; "));
    });

    await t.step("ssh -n with a remote command and an exit signal", async () => {
      const r = await sshWith(me, env.port, "127.0.0.1", `${U}@web1`, ["-n"], ["kill -TERM $$"]);
      assert.equal(r.code, 255, r.stderr); // OpenSSH reports a remote signal as 255
      sessions++;
      const rows = await waitClosed(env.db.sql, sessions);
      const last = rows[rows.length - 1];
      assert.equal(last.termination_reason, "normal");
      assert.deepEqual(last.metadata.channels[0].exit, { signal: "SIGTERM" });
    });
    await runCmd("true", []);
  } finally {
    await tmux.kill();
    await env.close();
  }
});
