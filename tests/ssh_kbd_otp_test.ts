// e2e: the jump password answers only a backend prompt that asks for a password. A real sshd whose PAM stack
// is pam_oath alone (libpam-oath: the prompt is "One-time password (OATH) for `USER': "), and a jump user
// whose jump password is, on purpose, the backend's next valid one-time code: answering the OTP prompt with
// it would log in. The proxy must not answer; the code is then still unused, as a direct login proves.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { runCmd, ssh } from "./helpers/ssh_clients.ts";
import { type Sshd, startSshd } from "./helpers/sshd.ts";

/** An OS account of this run's own (concurrent runs of the suite must not delete each other's). */
const OTP_USER = `jhotp${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
/** RFC 4226's test secret ("12345678901234567890"), as pam_oath's usersfile wants it (hex). */
const SECRET = "3132333435363738393031323334353637383930";
const PAM_OATH = "/lib/x86_64-linux-gnu/security/pam_oath.so";

const have = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch (_e) {
    return false;
  }
};

Deno.test({
  name: "ssh kbd-interactive: the jump password never answers a one-time-password prompt",
  ignore: Deno.uid() !== 0 || !have(PAM_OATH) || !have("/usr/bin/oathtool"),
  async fn() {
    const created = (await runCmd("id", [OTP_USER])).code !== 0;
    if (created) {
      const r = await runCmd("useradd", ["--create-home", "--shell", "/bin/bash", OTP_USER]);
      assert.equal(r.code, 0, r.stderr);
    }
    const dir = await Deno.makeTempDir({ prefix: "jh-otp-" });
    // sshd's PAM service is the name it runs as: a symlink gives this test a stack of its own
    const service = `jhotp${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
    const pamFile = `/etc/pam.d/${service}`;
    let backend: Sshd | null = null;
    const env = await startSshEnv();
    try {
      const usersFile = join(dir, "users.oath");
      await Deno.writeTextFile(usersFile, `HOTP/E/8 ${OTP_USER} - ${SECRET}\n`, { mode: 0o600 });
      await Deno.writeTextFile(
        pamFile,
        `auth required pam_oath.so usersfile=${usersFile} window=5 digits=8\n` +
          "account required pam_permit.so\nsession required pam_permit.so\n",
      );
      await Deno.symlink("/usr/sbin/sshd", join(dir, service));
      backend = await startSshd({
        program: join(dir, service),
        overrideConfig: [
          "UsePAM yes",
          "KbdInteractiveAuthentication yes",
          "PasswordAuthentication no",
          "PubkeyAuthentication no",
          `AllowUsers ${OTP_USER}`,
        ],
      });
      const code = (await runCmd("oathtool", ["--hotp", "-d", "8", "-c", "0", SECRET])).stdout.trim();
      assert.match(code, /^\d{8}$/);
      await env.addServer("otp1", { sshd: backend }); // passthrough on: only the prompt's words decide
      await env.addUser("otto", "127.0.0.41", { password: code });
      await env.grant("otto", "otp1");

      const r = await ssh(
        { bind: "127.0.0.41", password: code, opts: ["PreferredAuthentications=keyboard-interactive"] },
        env.port,
        "127.0.0.1",
        `${OTP_USER}@otp1`,
        ["echo should-not-run"],
      );
      assert.equal(r.code, 255, r.stdout);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /otp1 refused the login/, backend.log());
      const log = backend.log();
      assert.match(log, /keyboard-interactive/, "the proxy did try keyboard-interactive");
      assert.doesNotMatch(log, /Accepted/, log);
      let b: { details: Record<string, unknown> } | undefined;
      for (let i = 0; i < 100 && !b; i++) {
        [b] = await env.db.sql<{ details: Record<string, unknown> }[]>`
          SELECT details FROM audit_log WHERE action = 'ssh.backend_failed'`;
        if (!b) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(b?.details.code, "auth_failed");
      assert.equal(
        (await Deno.readTextFile(usersFile)).trim(),
        `HOTP/E/8 ${OTP_USER} - ${SECRET}`,
        "pam_oath accepted no code: its counter did not move",
      );

      // the code was valid and is still unused: typed by a person into the prompt, it logs in
      const direct = await ssh(
        { bind: "127.0.0.1", password: code, opts: ["PreferredAuthentications=keyboard-interactive"] },
        backend.port,
        backend.host,
        OTP_USER,
        ["echo otp-ok"],
      );
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(direct.stdout, "otp-ok\n");
      assert.ok(backend.log().includes(`Accepted keyboard-interactive/pam for ${OTP_USER}`), backend.log());
    } finally {
      await env.close();
      await backend?.stop();
      await Deno.remove(pamFile).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (created) await runCmd("userdel", ["--remove", OTP_USER]);
    }
  },
});
