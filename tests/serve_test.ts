// `jumphost serve` as one process: SSH, RDP and web listeners up, decisions counted in /metrics across
// the worker isolates, SIGHUP reloads without stopping anything, and a clean exit on SIGTERM.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { MAIN } from "./helpers/cli.ts";
import { spawnCollected } from "./helpers/process.ts";
import { freePort } from "./helpers/sshd.ts";

async function metricValue(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

Deno.test("serve runs every service and /metrics counts denials made in the proxy workers", async () => {
  const db = await createTestDb();
  const dataDir = Deno.makeTempDirSync({ dir: "/tmp/jumphost-test", prefix: "serve-" });
  const [ssh, rdp, web] = [freePort(), freePort(), freePort()];
  const serve = spawnCollected(Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--data-dir",
    dataDir,
    "--database-url",
    db.url,
    "--ssh-listen",
    `127.0.0.1:${ssh}`,
    "--rdp-listen",
    `127.0.0.1:${rdp}`,
    "--web-listen",
    `127.0.0.1:${web}`,
    "--log-level",
    "info",
  ]);
  try {
    const log = await serve.waitFor(/"msg":"ready"/, 60_000);
    for (const s of ["ssh", "rdp", "conversions", "web"]) {
      assert.match(log, new RegExp(`"msg":"started","service":"${s}"`));
    }
    const health = await (await fetch(`http://127.0.0.1:${web}/healthz`)).json();
    assert.equal(health.database, "ok");

    // an unknown source address is denied by the SSH worker
    const out = await new Deno.Command("ssh", {
      args: [
        "-p",
        String(ssh),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        "nobody@127.0.0.1",
        "true",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(out.code, 0);

    // an RDP connection to an address that is no server's pool IP is refused by the RDP worker
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: rdp });
    // X.224 Connection Request with RDP_NEG_REQ (TLS)
    await conn.write(new Uint8Array([3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 1, 0, 0, 0]));
    const buf = new Uint8Array(512);
    await conn.read(buf).catch(() => null);
    conn.close();

    const metrics = `http://127.0.0.1:${web}/metrics`;
    const deadline = Date.now() + 15_000;
    let sshConn = 0, sshDenied = 0, rdpDenied = 0;
    while (Date.now() < deadline) {
      sshConn = await metricValue(metrics, "jumphost_connections_total", 'protocol="ssh"');
      sshDenied = await metricValue(
        metrics,
        "jumphost_access_denials_total",
        'protocol="ssh",reason="unknown_source_ip"',
      );
      rdpDenied = await metricValue(
        metrics,
        "jumphost_access_denials_total",
        'protocol="rdp",reason="unknown_server"',
      );
      if (sshConn >= 1 && sshDenied >= 1 && rdpDenied >= 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(sshConn >= 1, `ssh connections counted (${sshConn})`);
    assert.ok(sshDenied >= 1, `ssh denial counted (${sshDenied})`);
    assert.ok(rdpDenied >= 1, `rdp denial counted (${rdpDenied})`);
    // SIGHUP reloads: the RDP worker takes the certificate again, the console serves again, nothing stops
    serve.child.kill("SIGHUP");
    await serve.waitFor(/"msg":"configuration reloaded"/, 20_000);
    await serve.waitFor(/RDP certificate reloaded/, 20_000);
    const again = await (await fetch(`http://127.0.0.1:${web}/healthz`)).json();
    assert.equal(again.status, "ok");

    const rows = await db.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE NOT success`;
    assert.ok(rows.some((r) => r.action === "ssh.access_denied"));
    assert.ok(rows.some((r) => r.action === "rdp.access_denied"));
  } finally {
    const status = await serve.stop();
    assert.equal(status.code, 0, serve.output().slice(-3000));
    assert.match(serve.output(), /"msg":"stopped","service":"ssh"/);
    await db.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});
