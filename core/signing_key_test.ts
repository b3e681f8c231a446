// The signing key against the real tools: ssh-keygen -Y verify accepts its SSHSIG signatures, openssl
// pkeyutl its raw ones, and both reject a changed message.
import assert from "node:assert/strict";
import { runTool } from "../tests/helpers/tools.ts";
import { join } from "node:path";
import {
  loadSigningKey,
  loadTrustedKeys,
  parsePublicKeys,
  parsePublicSigningKey,
  SigningKeyError,
  signingKeyPath,
  verifySignature,
} from "./signing_key.ts";

Deno.test("signing key: created 0600 once, public halves published, same key on reload", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const k1 = await loadSigningKey(dir);
    assert.equal((await Deno.stat(signingKeyPath(dir))).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "secret"))).mode! & 0o777, 0o700);
    const k2 = await loadSigningKey(dir, { create: false });
    assert.equal(k2.publicKey.openssh, k1.publicKey.openssh);
    const pub = await Deno.readTextFile(join(dir, "secret", "signing_ed25519.pub"));
    assert.equal(parsePublicSigningKey(pub).fingerprint, k1.publicKey.fingerprint);
    const pem = await Deno.readTextFile(join(dir, "secret", "signing_ed25519.pub.pem"));
    assert.equal(parsePublicSigningKey(pem).openssh, k1.publicKey.openssh);
    const fp = await runTool("ssh-keygen", ["-l", "-f", join(dir, "secret", "signing_ed25519.pub")]);
    assert(fp.out.includes(k1.publicKey.fingerprint), fp.out);
    await Deno.chmod(signingKeyPath(dir), 0o644);
    await assert.rejects(() => loadSigningKey(dir), /too open/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("signing key: ssh-keygen -Y verify and openssl pkeyutl -verify accept its signatures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const key = await loadSigningKey(dir);
    const msg = new TextEncoder().encode("hello auditors\n");
    const sigFile = join(dir, "m.sig"), allowed = join(dir, "allowed_signers");
    await Deno.writeTextFile(sigFile, key.sshsig(msg, "jumphost-test"));
    await Deno.writeTextFile(allowed, `jumphost namespaces="jumphost-test" ${key.publicKey.openssh}\n`);
    const args = ["-Y", "verify", "-f", allowed, "-I", "jumphost", "-n", "jumphost-test", "-s", sigFile];
    const ok = await runTool("ssh-keygen", args, { stdin: msg });
    assert.equal(ok.code, 0, ok.out);
    const bad = await runTool("ssh-keygen", args, { stdin: new TextEncoder().encode("hello auditors!\n") });
    assert(bad.code !== 0, bad.out);

    const raw = key.sign(msg);
    assert(verifySignature(key.publicKey, msg, raw));
    assert(!verifySignature(key.publicKey, msg.slice(1), raw));
    await Deno.writeFile(join(dir, "m"), msg);
    await Deno.writeFile(join(dir, "m.ed25519"), raw);
    await Deno.writeTextFile(join(dir, "pub.pem"), key.publicKey.pem);
    const o = ["pkeyutl", "-verify", "-pubin", "-inkey", join(dir, "pub.pem"), "-rawin", "-in"];
    const sslOk = await runTool("openssl", [...o, join(dir, "m"), "-sigfile", join(dir, "m.ed25519")]);
    assert.equal(sslOk.code, 0, sslOk.out);
    await Deno.writeFile(join(dir, "m"), msg.slice(1));
    const sslBad = await runTool("openssl", [...o, join(dir, "m"), "-sigfile", join(dir, "m.ed25519")]);
    assert(sslBad.code !== 0, sslBad.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trusted keys: own key plus a file of OpenSSH lines, allowed_signers lines or PEM blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const own = await loadSigningKey(join(dir, "a"));
    const b = (await loadSigningKey(join(dir, "b"))).publicKey;
    const c = (await loadSigningKey(join(dir, "c"))).publicKey;
    const file = join(dir, "trusted");
    await Deno.writeTextFile(file, `# other nodes\n${b.openssh}\njumphost namespaces="x" ${c.openssh}\n`);
    const keys = await loadTrustedKeys(join(dir, "a"), [null, file]);
    assert.deepEqual(keys.map((k) => k.fingerprint), [
      own.publicKey.fingerprint,
      b.fingerprint,
      c.fingerprint,
    ]);
    await Deno.writeTextFile(file, b.pem + c.pem);
    assert.deepEqual(parsePublicKeys(await Deno.readTextFile(file)).map((k) => k.openssh), [
      b.openssh,
      c.openssh,
    ]);
    // an auditor who cannot reach the appliance's key verifies with the keys given
    const unreachable = "/proc/jumphost-no-such-dir";
    assert.deepEqual((await loadTrustedKeys(unreachable, [file])).map((k) => k.openssh), [
      b.openssh,
      c.openssh,
    ]);
    await assert.rejects(() => loadTrustedKeys(unreachable, [null]));
    await Deno.writeTextFile(file, "ssh-rsa AAAAB3Nza nope\n");
    await assert.rejects(() => loadTrustedKeys(join(dir, "a"), [file]), SigningKeyError);
    await assert.rejects(() => loadTrustedKeys(join(dir, "a"), [join(dir, "missing")]), SigningKeyError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
