// e2e: real OpenSSH clients (Debian 12's 9.2) → the proxy → a real sshd, over each default cipher and MAC
// and asking for compression. OpenSSH 9.2 has no mlkem768x25519-sha256 (9.9+), so the hybrid exchange
// cannot be tested here against a real peer: a client built like the proxy's backend leg negotiates it
// with the listener (and proxy/ssh/mlkem_kex_test.ts between the two legs directly).
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, sshWith } from "./helpers/ssh_clients.ts";
import net from "node:net";
import ssh2 from "ssh2";
import { DEFAULT_SSH_CIPHERS, DEFAULT_SSH_MACS } from "../core/ssh_algorithms.ts";
import { backendAlgorithms, DEFAULT_ALGORITHMS } from "../proxy/ssh/algorithms.ts";
import { releaseCrypto } from "../proxy/ssh/ssh2_internals.ts";
import { type OsslCipherKind, osslCreated } from "../proxy/ssh/openssl_ciphers.ts";
import { cryptoBackend } from "../proxy/ssh/libcrypto.ts";

Deno.test("OpenSSH negotiates and uses every default cipher and MAC; compression is off", async (t) => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };
    const U = env.sshd.user;
    // 1 MB each way through `cat`: both directions of each cipher and MAC carry many full packets
    const text = Array.from({ length: 1_000_000 }, (_, i) => String.fromCharCode(97 + (i * 7) % 26)).join("");
    // the proxy runs in this isolate: count the libcrypto ciphers and deciphers it makes, both legs (the
    // backend leg prefers AES-GCM with libcrypto: proxy/ssh/algorithms.ts); none without libcrypto
    const viaOpenssl = async (clientLeg: OsslCipherKind, f: () => Promise<unknown>) => {
      const before = { ...osslCreated };
      await f();
      if (cryptoBackend().name !== "openssl") {
        return assert.deepEqual(osslCreated, before, "libcrypto used although disabled");
      }
      const want: Record<OsslCipherKind, number> = { gcm: 2, ctr: 0, chacha: 0 };
      want[clientLeg] += 2;
      for (const k of ["gcm", "ctr", "chacha"] as const) {
        const made = osslCreated[k] - before[k];
        assert.ok(made >= want[k], `${k}: ${made} made on libcrypto, ${want[k]} expected`);
      }
    };
    const run = async (opts: string[]) => {
      const r = await sshWith(me, env.port, "127.0.0.1", `${U}@web1`, ["-v", ...opts], ["cat"], {
        stdin: text,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout === text, `${r.stdout.length} bytes back, not the ${text.length} sent`);
      return r.stderr;
    };

    await t.step(
      "by default: curve25519-sha256 and chacha20-poly1305, OpenSSH's own first choice",
      async () => {
        let log = "";
        await viaOpenssl("chacha", async () => log = await run([]));
        assert.match(log, /kex: algorithm: curve25519-sha256\r?\n/);
        assert.match(
          log,
          /kex: client->server cipher: chacha20-poly1305@openssh\.com MAC: <implicit> compression: none/,
        );
        assert.match(log, /kex: server->client cipher: chacha20-poly1305@openssh\.com/);
      },
    );

    await t.step("each other default cipher", async () => {
      for (const c of DEFAULT_SSH_CIPHERS.slice(1)) {
        let log = "";
        await viaOpenssl(c.includes("gcm") ? "gcm" : "ctr", async () => log = await run(["-c", c]));
        assert.match(log, new RegExp(`kex: server->client cipher: ${c.replace(/\./g, "\\.")} `), c);
      }
    });

    await t.step("each default MAC (with aes128-ctr)", async () => {
      for (const m of DEFAULT_SSH_MACS) {
        let log = "";
        await viaOpenssl("ctr", async () => log = await run(["-c", "aes128-ctr", "-m", m]));
        assert.match(
          log,
          new RegExp(`kex: server->client cipher: aes128-ctr MAC: ${m.replace(/\./g, "\\.")} `),
          m,
        );
      }
    });

    await t.step("rekeys OpenSSH starts (RekeyLimit) keep the stream intact", async () => {
      const log = await run(["-o", "RekeyLimit=128K"]);
      assert.ok((log.match(/SSH2_MSG_NEWKEYS received/g) ?? []).length >= 3, "fewer than 2 rekeys");
    });

    await t.step("a client asking for compression gets none, and works", async () => {
      const log = await run(["-o", "Compression=yes"]);
      assert.match(log, /client->server cipher: \S+ MAC: \S+ compression: none/);
      assert.doesNotMatch(log, /Enabling compression/);
    });

    await t.step("a client offering only what the proxy dropped is refused", async () => {
      for (
        const [opt, re] of [
          ["KexAlgorithms=ecdh-sha2-nistp256", /no matching key exchange method found/],
          ["MACs=hmac-sha1", /no matching MAC found/],
        ] as const
      ) {
        const r = await sshWith(me, env.port, "127.0.0.1", `${U}@web1`, ["-c", "aes128-ctr", "-o", opt], [
          "true",
        ]);
        assert.equal(r.code, 255);
        assert.match(r.stderr, re);
      }
    });
  } finally {
    await env.close();
  }
});

Deno.test("a post-quantum client gets mlkem768x25519-sha256 from the listener and reaches the 9.2 backend", async () => {
  const env = await startSshEnv();
  // deno-lint-ignore no-explicit-any
  const client = new (ssh2 as any).Client();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const kex: string[] = [];
    const out = await new Promise<string>((resolve, reject) => {
      client.on("handshake", (n: { kex: string }) => kex.push(n.kex));
      client.on("error", reject);
      client.on("ready", () =>
        client.exec("echo pq", (err: Error | undefined, ch: net.Socket) => {
          if (err) return reject(err);
          let text = "";
          ch.on("data", (d: Uint8Array) => text += new TextDecoder().decode(d));
          ch.on("close", () => resolve(text));
        }));
      const sock = net.connect({ host: "127.0.0.1", port: env.port, localAddress: "127.0.0.10" });
      sock.setNoDelay(true);
      sock.on("connect", async () =>
        client.connect({
          sock,
          username: `${env.sshd.user}@web1`,
          privateKey: await Deno.readTextFile(alice.path),
          algorithms: backendAlgorithms(DEFAULT_ALGORITHMS),
        }));
    });
    assert.equal(out, "pq\n");
    assert.deepEqual(kex, ["mlkem768x25519-sha256"]);
  } finally {
    const closed = new Promise((r) => client.on("close", r));
    client.end();
    await closed;
    releaseCrypto(client);
    await env.close();
  }
});
