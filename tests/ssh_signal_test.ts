// e2e: `signal` channel requests (RFC 4254 6.9) through the proxy to a real sshd. The OpenSSH client never
// sends them, so the end user here is an npm:ssh2 Client on its own TCP socket (TCP_NODELAY).
// OpenSSH sshd (>= 7.8; Debian 12 has 9.2) honours them with killpg() on the session's process group, for
// exec and shell sessions but not subsystems or forced commands: each case is checked below.
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type BackendClient, type ClientChannel, newBackendClient } from "../proxy/ssh/ssh2_types.ts";
import { releaseCrypto } from "../proxy/ssh/ssh2_internals.ts";

interface Done {
  stdout: string;
  /** the arguments of the channel's `exit` event: [status] or [null, "SIGxxx", coreDumped, message] */
  exit: unknown[] | null;
}

function connect(bind: string, port: number, username: string, privateKey: string): Promise<BackendClient> {
  return new Promise((resolve, reject) => {
    const client = newBackendClient();
    const sock = net.connect({ host: "127.0.0.1", port, localAddress: bind });
    sock.setNoDelay(true);
    client.on("ready", () => resolve(client));
    client.on("error", (e) => reject(e));
    sock.on(
      "connect",
      () => client.connect({ sock, username, privateKey, hostVerifier: () => true, readyTimeout: 15_000 }),
    );
  });
}

async function close(client: BackendClient): Promise<void> {
  const closed = new Promise<void>((r) => client.on("close", () => r()));
  client.end();
  await closed;
  releaseCrypto(client);
}

function exec(client: BackendClient, command: string, pty = false): Promise<ClientChannel> {
  const opts = pty ? { pty: { term: "xterm", cols: 80, rows: 24 } } : {};
  return new Promise((resolve, reject) =>
    client.exec(command, opts, (err, ch) => err ? reject(err) : resolve(ch))
  );
}

/** Sends `signal` once `marker` appears in stdout and returns what the channel produced until it closed. */
async function signalAfter(ch: ClientChannel, marker: string, signal: string, what: string): Promise<Done> {
  let signalled = false;
  const done = await within(
    10_000,
    collect(ch, (out) => {
      if (!signalled && out.includes(marker)) {
        signalled = true;
        ch.signal(signal);
      }
    }),
    what,
  );
  assert.ok(signalled, `${marker} never came: ${done.stdout}`);
  return done;
}

/** Collects stdout and the exit event until the channel closes; `onOutput` sees stdout as it comes. */
function collect(ch: ClientChannel, onOutput: (text: string) => void = () => {}): Promise<Done> {
  return new Promise((resolve) => {
    const done: Done = { stdout: "", exit: null };
    ch.on("data", (d: Uint8Array) => {
      done.stdout += new TextDecoder().decode(d);
      onOutput(done.stdout);
    });
    ch.stderr.resume();
    ch.on("exit", (...args: unknown[]) => done.exit = args);
    ch.on("close", () => resolve(done));
  });
}

/** Fails the test instead of waiting for a process that did not get its signal. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

Deno.test("ssh signal: a client's signal request reaches the backend process", async (t) => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const privateKey = await Deno.readTextFile(alice.path);
    const U = env.sshd.user;
    const sessionMeta = async () =>
      (await env.db.sql<{ metadata: { channels: { command?: string; exit?: unknown }[] } }[]>`
        SELECT metadata FROM sessions ORDER BY id DESC LIMIT 1`)[0].metadata;

    await t.step(
      "TERM ends `sleep 30` on the backend; the exit signal comes back to the client",
      async () => {
        const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
        try {
          const ch = await exec(client, "echo started; exec sleep 30");
          const done = await signalAfter(ch, "started\n", "TERM", "sleep after TERM");
          assert.equal(done.stdout, "started\n");
          assert.deepEqual(done.exit?.slice(0, 2), [null, "SIGTERM"]);
        } finally {
          await close(client);
        }
      },
    );

    await t.step("INT runs a shell trap on the backend, which exits with its own status", async () => {
      const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
      try {
        const script = "trap 'echo got-INT; exit 7' INT; echo ready; while :; do sleep 0.1; done";
        const done = await signalAfter(await exec(client, script), "ready\n", "INT", "trap after INT");
        assert.equal(done.stdout, "ready\ngot-INT\n");
        assert.deepEqual(done.exit, [7]);
      } finally {
        await close(client);
      }
      // the channel's end is in the session metadata once the session is closed
      for (let i = 0; i < 100; i++) {
        const [r] = await env.db.sql<{ is_active: boolean }[]>`SELECT is_active FROM sessions
          ORDER BY id DESC LIMIT 1`;
        if (!r.is_active) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual((await sessionMeta()).channels.at(-1)?.exit, { status: 7 });
    });

    await t.step("a command in a terminal (exec with a PTY) gets the signal too", async () => {
      const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
      try {
        const ch = await exec(client, "echo started; exec sleep 30", true);
        const done = await signalAfter(ch, "started", "HUP", "sleep in a PTY after HUP");
        assert.deepEqual(done.exit?.slice(0, 2), [null, "SIGHUP"]);
      } finally {
        await close(client);
      }
    });

    await t.step(
      "in an interactive PTY shell the shell's own process group gets it: its trap runs",
      async () => {
        const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
        try {
          const sh = await new Promise<ClientChannel>((resolve, reject) =>
            client.shell(
              { term: "xterm", cols: 80, rows: 24 },
              {},
              (err, ch) => err ? reject(err) : resolve(ch),
            )
          );
          const prompts = (out: string) => (out.match(/\$ /g) ?? []).length;
          let out = "";
          const waitFor = async (what: (o: string) => boolean, label: string) => {
            for (let i = 0; !what(out); i++) {
              if (i > 200) {
                throw new Error(`${label} never came: ${JSON.stringify(out)}`);
              }
              await new Promise((r) => setTimeout(r, 50));
            }
          };
          const closed = collect(sh, (o) => out = o);
          await waitFor((o) => prompts(o) >= 1, "prompt");
          // the marker is computed so that the echo of the typed line does not match it
          sh.write("trap 'echo got-$((6*7))' USR1\n");
          await waitFor((o) => prompts(o) >= 2, "prompt after trap");
          sh.signal("USR1");
          // bash (readline) runs the trap before the next command line; the signal overtakes that line
          sh.write("echo d$((1+1))ne; exit\n");
          const done = await within(10_000, closed, "shell exit");
          assert.match(done.stdout, /got-42\r\nd2ne\r\n/);
        } finally {
          await close(client);
        }
      },
    );

    await t.step(
      "sshd declines signals to a subsystem (sftp); the proxy relayed it and sshd says so",
      async () => {
        const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
        try {
          const sftp = await new Promise<ClientChannel>((resolve, reject) =>
            client.subsys("sftp", (err, ch) => err ? reject(err) : resolve(ch))
          );
          sftp.signal("TERM");
          const refused = /refusing to send signal TERM to subsystem session/;
          for (let i = 0; !refused.test(env.sshd.log()); i++) {
            if (i > 200) throw new Error(`sshd did not log the signal: ${env.sshd.log()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          sftp.close();
        } finally {
          await close(client);
        }
      },
    );

    await t.step("a signal sent before the backend channel is open is relayed once it is", async () => {
      const client = await connect("127.0.0.10", env.port, `${U}@web1`, privateKey);
      try {
        // the proxy accepts exec at once and opens the backend leg afterwards: the signal must wait for it.
        // sshd itself loses a signal that comes right after its exec reply, before the child has called
        // setsid() (killpg: ESRCH, logged): either way sshd got the request from the proxy.
        const lost = /session_signal_req: killpg\(\d+, 15\): No such process/;
        const before = (env.sshd.log().match(new RegExp(lost, "g")) ?? []).length;
        const ch = await exec(client, "exec sleep 30");
        ch.signal("TERM");
        let exit: unknown[] | null = null;
        ch.on("exit", (...args: unknown[]) => exit = args);
        ch.resume();
        for (let i = 0; exit === null; i++) {
          if ((env.sshd.log().match(new RegExp(lost, "g")) ?? []).length > before) break;
          if (i > 200) throw new Error(`sshd never got the early TERM: ${env.sshd.log()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        if (exit) assert.deepEqual((exit as unknown[]).slice(0, 2), [null, "SIGTERM"]);
        else ch.close();
      } finally {
        await close(client);
      }
    });
  } finally {
    await env.close();
  }
});
