// e2e: the SSH second factor in the proxy as `serve` runs it — a worker started by startSshService, which
// opens the user's sealed TOTP secret with the appliance key under its data directory. OpenSSH answers the
// `Verification code:` prompt through SSH_ASKPASS with a code from oathtool.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../core/config.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { startSshService } from "../app/ssh_service.ts";
import { createTestDb } from "./helpers/test_db.ts";
import { freePort, startSshd } from "./helpers/sshd.ts";
import { ssh } from "./helpers/ssh_clients.ts";
import { grantWeb1 } from "./helpers/granted_ssh.ts";
import { enrolTotp } from "../db/totp.ts";
import { findUser } from "../db/users.ts";

Deno.test("ssh worker: a TOTP code at the prompt, the secret opened with the appliance key on disk", async () => {
  const db = await createTestDb();
  const sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "jh-sshmfaworker-" });
  const logs: string[] = [];
  const log = {
    debug: () => {},
    info: (m: string) => logs.push(m),
    warn: (m: string) => logs.push(m),
    error: (m: string) => logs.push(m),
  };
  let service: ReturnType<typeof startSshService> | null = null;
  try {
    const port = freePort();
    const config = resolveConfig({
      profile: "checkout",
      cwd: dir,
      hostname: "test",
      flags: { "data-dir": join(dir, "data"), "database-url": db.url, "ssh-listen": [`127.0.0.1:${port}`] },
      env: {},
      file: {},
      configFile: null,
    });
    const key = await grantWeb1(db.sql, {
      sshd,
      sourceIp: "127.0.0.31",
      keyDir: dir,
      dataDir: config.dataDir,
    });
    const wendy = (await findUser(db.sql, "wendy"))!;
    const e = await enrolTotp(
      db.sql,
      await loadApplianceKey(config.dataDir),
      { kind: "user", id: wendy.id, name: "wendy" },
      "test",
    );
    const askpass = join(dir, "askpass.sh");
    await Deno.writeTextFile(askpass, '#!/bin/sh\noathtool --totp -b "$JH_TOTP_SECRET"\n');
    await Deno.chmod(askpass, 0o700);

    service = startSshService(config, { log, dbTarget: { url: db.url } });
    await service.ready;
    const me = {
      bind: "127.0.0.31",
      key: key.path,
      password: "unused",
      opts: ["PreferredAuthentications=publickey,keyboard-interactive"],
    };
    const env = { SSH_ASKPASS: askpass, JH_TOTP_SECRET: e.secret };
    const r = await ssh(me, port, "127.0.0.1", `${sshd.user}@web1`, ["echo second-factor-ok"], { env });
    assert.equal(r.stdout, "second-factor-ok\n", r.stderr + logs.join("\n"));
    const [ok] = await db.sql<{ details: { method: string; first_use: boolean } }[]>`
      SELECT details FROM audit_log WHERE action = 'ssh.mfa_ok'`;
    assert.deepEqual([ok.details.method, ok.details.first_use], ["totp", true]);
    // without the code (a wrong one): refused
    const bad = await ssh(me, port, "127.0.0.1", `${sshd.user}@web1`, ["echo no"], {
      env: { SSH_ASKPASS: askpass, JH_TOTP_SECRET: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    });
    assert.equal(bad.code, 255);
    assert.equal(bad.stdout, "");
  } finally {
    await service?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await sshd.stop();
    await db.close();
  }
});
