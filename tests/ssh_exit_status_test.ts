// e2e: the exit status of an exec with a PTY survives the channel's end, every time. OpenSSH's sshd sends
// the last output, EOF, exit-status and close in quick succession; the proxy must relay the status before
// it ends the client's channel, or ssh reports 255 although all output arrived (issue 20).
// JH_EXIT_LOOP=<n> sets the number of runs (default 300: about 50 s here; 1,000 took about 170 s).
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";

const RUNS = Number(Deno.env.get("JH_EXIT_LOOP") ?? "300");

Deno.test(`ssh exec with a PTY: ${RUNS} runs keep exit codes 0 and 7 and all output`, async () => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
    const target = `${env.sshd.user}@web1`;
    const started = Date.now();
    const failures: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const code = i % 2 === 0 ? 7 : 0;
      const r = await ssh(me, env.port, "127.0.0.1", target, ["-tt", `echo hi${i}; exit ${code}`]);
      if (r.code !== code || !r.stdout.includes(`hi${i}`)) {
        failures.push(
          `run ${i}: exit ${r.code} (want ${code}), stdout ${JSON.stringify(r.stdout)}, ${r.stderr}`,
        );
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`${RUNS} PTY execs in ${seconds.toFixed(1)} s, ${failures.length} lost exit statuses`);
    assert.deepEqual(failures, []);
  } finally {
    await env.close();
  }
});
