// e2e: `ssh-audit` (the Debian package, a third-party scanner) against the SSH proxy's listener. It must
// report no [fail] line: no NIST-curve ECDH, no SHA-1, no zlib before authentication; and it must
// see the hybrid post-quantum key exchange and chacha20-poly1305 offered.
import assert from "node:assert/strict";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { runCmd } from "./helpers/ssh_clients.ts";

async function audit(port: number): Promise<{ out: string; fails: string[] }> {
  const r = await runCmd("ssh-audit", ["-n", "-p", String(port), "127.0.0.1"], { timeoutMs: 60_000 });
  // ssh-audit exits non-zero on warnings too; the report is what counts
  assert.match(
    r.stdout,
    /^\(gen\) banner: SSH-2\.0-jumphost/m,
    `ssh-audit did not scan: ${r.stdout}${r.stderr}`,
  );
  return { out: r.stdout, fails: r.stdout.split("\n").filter((l) => l.includes("[fail]")) };
}

Deno.test("ssh-audit finds nothing to fail on the SSH listener", async () => {
  const env = await startSshEnv();
  try {
    const { out, fails } = await audit(env.port);
    assert.deepEqual(fails, [], `ssh-audit [fail] lines:\n${out}`);
    // what it saw offered: the lists of core/ssh_algorithms.ts
    const offered = (section: string) =>
      [...out.matchAll(new RegExp(`^\\(${section}\\) (\\S+)`, "gm"))].map((m) => m[1]);
    assert.deepEqual(offered("kex").filter((k) => !k.startsWith("kex-strict")), [
      "mlkem768x25519-sha256",
      "curve25519-sha256",
      "curve25519-sha256@libssh.org",
      "diffie-hellman-group-exchange-sha256",
      "diffie-hellman-group16-sha512",
      "diffie-hellman-group18-sha512",
      "diffie-hellman-group14-sha256",
    ]);
    assert.deepEqual(offered("enc"), [
      "chacha20-poly1305@openssh.com",
      "aes128-ctr",
      "aes192-ctr",
      "aes256-ctr",
      "aes128-gcm@openssh.com",
      "aes256-gcm@openssh.com",
    ]);
    assert.deepEqual(offered("mac"), [
      "hmac-sha2-256-etm@openssh.com",
      "hmac-sha2-512-etm@openssh.com",
      "hmac-sha2-256",
      "hmac-sha2-512",
    ]);
    assert.match(out, /compression: disabled/);
    assert.doesNotMatch(out, /zlib/);
  } finally {
    await env.close();
  }
});

Deno.test("ssh-audit's [fail] lines are caught when an operator configures weak algorithms", async () => {
  const env = await startSshEnv({
    algorithms: {
      kex: ["curve25519-sha256", "ecdh-sha2-nistp256"],
      ciphers: ["aes128-ctr", "3des-cbc"],
      macs: ["hmac-sha2-256-etm@openssh.com", "hmac-sha1"],
    },
  });
  try {
    const { fails } = await audit(env.port);
    assert.ok(fails.some((l) => l.startsWith("(kex) ecdh-sha2-nistp256")), fails.join("\n"));
    assert.ok(fails.some((l) => l.startsWith("(enc) 3des-cbc")), fails.join("\n"));
  } finally {
    await env.close();
  }
});
