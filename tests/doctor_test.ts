// `jumphost doctor` end to end: a healthy setup passes; each kind of breakage gives its own FAIL line.
import assert from "node:assert/strict";
import { jh } from "./helpers/cli.ts";
import { createTestDb } from "./helpers/test_db.ts";
import { makeCerts } from "./helpers/certs.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function lines(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of out.split("\n")) {
    const r = /^(ok|WARN|FAIL) {2}(.+?) {2,}(.*)$/.exec(l);
    if (r) m.set(r[2].trim(), `${r[1]} ${r[3]}`);
  }
  return m;
}

Deno.test("jumphost doctor passes a healthy setup and names each broken part on its own line", async () => {
  const db = await createTestDb();
  const dir = await Deno.makeTempDir({ prefix: "jh-doctor-" });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const certs = await makeCerts(dir);
    Deno.writeTextFileSync(`${dir}/ok.crt`, certs.ok.cert);
    Deno.writeTextFileSync(`${dir}/ok.key`, certs.ok.key);
    const base = [
      "--data-dir",
      `${dir}/data`,
      "--recordings-dir",
      `${dir}/rec`,
      "--rdp-listen",
      `127.0.0.1:${freePort()}`,
    ];
    const good = await jh([
      ...base,
      "doctor",
      "--ssh-listen",
      `127.0.0.1:${freePort()}`,
      "--web-listen",
      `127.0.0.1:${freePort()}`,
      "--web-tls-cert",
      `${dir}/ok.crt`,
      "--web-tls-key",
      `${dir}/ok.key`,
    ], { env: { JUMPHOST_DATABASE_URL: db.url }, cwd: dir });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    const g = lines(good.stdout);
    for (
      const check of ["database", "ssh listen", "rdp listen", "web listen", "pool IPs", "ffmpeg", "web TLS"]
    ) {
      assert.match(g.get(check) ?? "", /^ok /, `${check}: ${g.get(check)}`);
    }
    assert.match(g.get("database")!, /schema current/);
    assert.match(g.get("ssh kex")!, /^ok mlkem768x25519-sha256,curve25519-sha256,/);
    assert.match(g.get("ssh ciphers")!, /^ok chacha20-poly1305@openssh\.com,/);
    assert.match(g.get("ssh compression")!, /^ok none$/);
    assert.doesNotMatch(good.stdout, /password|secret/i);

    // broken: unreachable database, no ffmpeg on PATH, a port someone else holds, a foreign address,
    // an expired certificate
    const bin = `${dir}/bin`;
    Deno.mkdirSync(bin);
    Deno.symlinkSync("/usr/bin/env", `${bin}/env`);
    const bad = await jh([
      ...base,
      "doctor",
      "--ssh-listen",
      `127.0.0.1:${(busy.addr as Deno.NetAddr).port}`,
      "--web-listen",
      "192.0.2.1:8443",
      "--web-tls-cert",
      `${dir}/old.crt`,
      "--web-tls-key",
      `${dir}/old.key`,
    ], {
      env: {
        JUMPHOST_DATABASE_URL: "postgres://jumphost:s3cret@127.0.0.1:1/nowhere",
        PATH: bin,
        JUMPHOST_SSH_MACS: "hmac-sha2-256-etm@openssh.com,hmac-sha1",
      },
      cwd: dir,
    });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    const b = lines(bad.stdout);
    assert.match(
      b.get("database")!,
      /^FAIL postgres:\/\/jumphost:\*\*\*@127\.0\.0\.1:1\/nowhere: cannot reach/,
    );
    assert.doesNotMatch(bad.stdout, /s3cret/);
    assert.match(b.get("ffmpeg")!, /^FAIL not found in PATH/);
    assert.match(b.get("ssh listen")!, /^FAIL 127\.0\.0\.1:\d+ is in use by deno \(pid \d+\)/);
    assert.match(
      b.get("web listen")!,
      /^FAIL 192\.0\.2\.1:8443: 192\.0\.2\.1 is not an address of this machine/,
    );
    assert.match(b.get("web TLS")!, /^FAIL certificate CN=old expired on 2020-01-02/);
    assert.match(b.get("rdp listen")!, /^ok /);
    assert.match(
      b.get("ssh macs")!,
      /^WARN hmac-sha2-256-etm@openssh\.com,hmac-sha1 \(weak, ssh-audit flags: hmac-sha1\)/,
    );
    assert.match(bad.stdout, /^5 check\(s\) failed$/m);
    // --json carries the same verdicts
    const j = await jh([...base, "doctor", "--json"], {
      env: { JUMPHOST_DATABASE_URL: "postgres://jumphost@127.0.0.1:1/nowhere" },
      cwd: dir,
    });
    assert.equal(j.code, 1);
    const parsed = JSON.parse(j.stdout) as { ok: boolean; checks: { status: string; check: string }[] };
    assert.equal(parsed.ok, false);
    assert.equal(parsed.checks.find((c) => c.check === "database")?.status, "fail");
  } finally {
    busy.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
