import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { defaultCertPaths, loadOrCreateCertificate } from "./tls.ts";
import { RdpProxyError } from "./errors.ts";

Deno.test("loadOrCreateCertificate generates a private key once and reuses it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await loadOrCreateCertificate({ dataDir: dir, hostname: "jump.example" });
    assert.ok(a.generated);
    const { certPath, keyPath } = defaultCertPaths(dir);
    assert.equal(a.certPath, certPath);
    assert.equal((await Deno.stat(keyPath)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "rdp"))).mode! & 0o777, 0o700);
    const x = new X509Certificate(a.cert);
    assert.match(x.subject, /CN=jump\.example/);
    assert.match(x.subjectAltName ?? "", /DNS:jump\.example/);
    assert.ok(x.checkPrivateKey((await import("node:crypto")).createPrivateKey(a.key)));
    const b = await loadOrCreateCertificate({ dataDir: dir });
    assert.ok(!b.generated);
    assert.equal(b.cert, a.cert, "the same certificate on the next start");
    assert.deepEqual([...Deno.readDirSync(join(dir, "rdp"))].map((e) => e.name).sort(), [
      "tls_cert.pem",
      "tls_key.pem",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateCertificate uses operator files and rejects half or bad ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gen = await loadOrCreateCertificate({ dataDir: join(dir, "gen") });
    const other = join(dir, "other");
    const op = await loadOrCreateCertificate({
      dataDir: other,
      certPath: gen.certPath,
      keyPath: gen.keyPath,
    });
    assert.ok(!op.generated);
    assert.equal(op.cert, gen.cert);
    await assert.rejects(() => Deno.stat(join(other, "rdp")), Deno.errors.NotFound); // nothing generated
    await assert.rejects(
      loadOrCreateCertificate({ dataDir: other, certPath: gen.certPath }),
      (e) => e instanceof RdpProxyError && e.code === "certificate",
    );
    await Deno.writeTextFile(join(dir, "bad.pem"), "not a key");
    await assert.rejects(
      loadOrCreateCertificate({ dataDir: other, certPath: gen.certPath, keyPath: join(dir, "bad.pem") }),
      (e) => e instanceof RdpProxyError && /no PEM private key/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
