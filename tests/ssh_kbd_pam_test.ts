// e2e: a backend that offers only keyboard-interactive (real sshd with PAM, password and publickey off).
// The user types a password at the jump (keyboard-interactive or password) and the proxy answers the
// backend's PAM prompt with it. Also the failures: a password the backend refuses, for a user known by IP
// only (the backend is the judge) and for a user whose jump password is not the backend's.
import assert from "node:assert/strict";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, runCmd, ssh } from "./helpers/ssh_clients.ts";
import { type Sshd, startSshd } from "./helpers/sshd.ts";

const KBD_USER = "jhkbdtest";
const KBD_PASSWORD = "kbd-Pam-pw-4417";

interface Audit {
  action: string;
  actor: string;
  target: string | null;
  success: boolean;
  details: Record<string, unknown>;
}

interface Row {
  is_active: boolean;
  termination_reason: string | null;
  user_name: string;
  server_name: string;
  ssh_login: string;
  metadata: { jump_auth: string; backend_auth: string; channels: { command?: string }[] };
}

/** Creates the OS user the PAM backend logs in (if missing); true when this test created it. */
async function ensureKbdUser(): Promise<boolean> {
  const exists = (await runCmd("id", [KBD_USER])).code === 0;
  if (!exists) {
    const r = await runCmd("useradd", ["--create-home", "--shell", "/bin/bash", KBD_USER]);
    assert.equal(r.code, 0, r.stderr);
  }
  const r = await runCmd("chpasswd", [], { stdin: `${KBD_USER}:${KBD_PASSWORD}\n` });
  assert.equal(r.code, 0, r.stderr);
  return !exists;
}

Deno.test("ssh kbd-interactive: the jump password answers a PAM backend's keyboard-interactive prompt", async (t) => {
  const created = await ensureKbdUser();
  let pamSshd: Sshd | null = null;
  const env = await startSshEnv();
  try {
    // only keyboard-interactive through PAM (the stock /etc/pam.d/sshd of openssh-server) can log in here
    pamSshd = await startSshd({
      overrideConfig: [
        "UsePAM yes",
        "KbdInteractiveAuthentication yes",
        "PasswordAuthentication no",
        "PubkeyAuthentication no",
        `AllowUsers ${KBD_USER}`,
      ],
    });
    await env.addServer("pam1", { sshd: pamSshd });
    await env.addUser("kim", "127.0.0.21", { password: KBD_PASSWORD });
    await env.addUser("ivy", "127.0.0.22");
    await env.addUser("ken", "127.0.0.23", { password: "jump-only-pw-1" });
    for (const u of ["kim", "ivy", "ken"]) await env.grant(u, "pam1");

    const sql = env.db.sql;
    const rowCount = async () => Number((await sql`SELECT count(*) AS n FROM sessions`)[0].n);
    const audits = async (action: string) =>
      await sql<Audit[]>`SELECT action, actor, target, success, details FROM audit_log
        WHERE action = ${action} ORDER BY id`;
    const waitAudit = async (action: string, n: number) => {
      for (let i = 0; i < 100 && (await audits(action)).length < n; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return await audits(action);
    };
    const lastClosed = async (): Promise<Row> => {
      for (let i = 0;; i++) {
        const [row] = await sql<
          Row[]
        >`SELECT is_active, termination_reason, user_name, server_name, ssh_login,
          metadata FROM sessions ORDER BY id DESC LIMIT 1`;
        if (row && !row.is_active) return row;
        if (i > 200) throw new Error(`session not closed: ${JSON.stringify(row)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const login = (bind: string, method: string, password: string): ClientId => ({
      bind,
      password,
      opts: [`PreferredAuthentications=${method}`],
    });
    const pamAccepts = () =>
      (pamSshd!.log().match(/Accepted keyboard-interactive\/pam for jhkbdtest/g) ?? []).length;

    await t.step(
      "the backend refuses password authentication (only keyboard-interactive is offered)",
      async () => {
        const direct = await runCmd("ssh", [
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "BatchMode=yes",
          "-p",
          String(pamSshd!.port),
          `${KBD_USER}@${pamSshd!.host}`,
          "true",
        ]);
        assert.equal(direct.code, 255);
        assert.match(direct.stderr, /Permission denied \(keyboard-interactive\)/);
      },
    );

    await t.step(
      "keyboard-interactive at the jump, the same password to the backend's PAM prompt",
      async () => {
        const before = pamAccepts();
        const grants = (await audits("ssh.access_granted")).length;
        const r = await ssh(
          login("127.0.0.21", "keyboard-interactive", KBD_PASSWORD),
          env.port,
          "127.0.0.1",
          `${KBD_USER}@pam1`,
          ["id -un; echo kbd-ok"],
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${KBD_USER}\nkbd-ok\n`);
        const row = await lastClosed();
        assert.equal(row.termination_reason, "normal");
        assert.equal(row.user_name, "kim");
        assert.equal(row.server_name, "pam1");
        assert.equal(row.ssh_login, KBD_USER);
        assert.equal(row.metadata.jump_auth, "keyboard-interactive");
        assert.equal(row.metadata.backend_auth, "keyboard-interactive");
        assert.equal(row.metadata.channels[0].command, "id -un; echo kbd-ok");
        assert.equal(pamAccepts(), before + 1, pamSshd!.log());
        const granted = (await waitAudit("ssh.access_granted", grants + 1)).at(-1)!;
        assert.equal(granted.actor, "kim");
        assert.equal(granted.target, "pam1");
        assert.equal(granted.details.auth_method, "keyboard-interactive");
        const ends = await waitAudit("ssh.session_end", 1);
        assert.equal(ends.at(-1)?.actor, "kim");
      },
    );

    await t.step("a user known by IP only: password at the jump, checked by the backend's PAM", async () => {
      for (const method of ["password", "keyboard-interactive"]) {
        const before = pamAccepts();
        const r = await ssh(
          login("127.0.0.22", method, KBD_PASSWORD),
          env.port,
          "127.0.0.1",
          `${KBD_USER}@pam1`,
          [
            `echo ivy-${method}`,
          ],
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `ivy-${method}\n`);
        const row = await lastClosed();
        assert.equal(row.user_name, "ivy");
        assert.equal(row.termination_reason, "normal");
        assert.equal(row.metadata.jump_auth, method);
        assert.equal(row.metadata.backend_auth, "keyboard-interactive");
        assert.equal(pamAccepts(), before + 1);
      }
    });

    await t.step(
      "a password the PAM backend refuses (IP-only user): denied, audited, no sessions row",
      async () => {
        const rows = await rowCount();
        const fails = (await audits("ssh.auth_failed")).length;
        const backendFails = (await audits("ssh.backend_failed")).length;
        const r = await ssh(
          login("127.0.0.22", "keyboard-interactive", "wrong-pw"),
          env.port,
          "127.0.0.1",
          `${KBD_USER}@pam1`,
          [
            "true",
          ],
        );
        assert.equal(r.code, 255, r.stdout);
        assert.match(r.stderr, /Permission denied/);
        assert.equal(r.stdout, "");
        const f = (await waitAudit("ssh.auth_failed", fails + 1)).at(-1)!;
        assert.equal(f.actor, "ivy");
        assert.deepEqual((f.details.attempts as { outcome: string }[]).map((a) => a.outcome), [
          "backend_rejected_password",
        ]);
        const b = (await waitAudit("ssh.backend_failed", backendFails + 1)).at(-1)!;
        assert.equal(b.target, "pam1");
        assert.equal(b.details.code, "auth_failed");
        // the proxy tried the password, then answered the PAM prompt with it
        assert.match(String(b.details.detail), /tried password, keyboard-interactive/);
        assert.equal(await rowCount(), rows);
        assert.match(pamSshd!.log(), /Failed keyboard-interactive\/pam for jhkbdtest/);
      },
    );

    await t.step(
      "a jump password the backend does not take: a clear message, audited, no sessions row",
      async () => {
        const rows = await rowCount();
        const backendFails = (await audits("ssh.backend_failed")).length;
        const r = await ssh(
          login("127.0.0.23", "keyboard-interactive", "jump-only-pw-1"),
          env.port,
          "127.0.0.1",
          `${KBD_USER}@pam1`,
          [
            "echo never",
          ],
        );
        assert.equal(r.code, 255, r.stdout);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /jumphost: pam1 refused the login with the password you typed\./);
        const b = (await waitAudit("ssh.backend_failed", backendFails + 1)).at(-1)!;
        assert.equal(b.actor, "ken");
        assert.equal(b.details.code, "auth_failed");
        assert.equal(await rowCount(), rows);
        const granted = (await audits("ssh.access_granted")).at(-1)!;
        assert.equal(granted.actor, "ken"); // the jump accepted ken; only the backend refused
      },
    );
  } finally {
    await env.close();
    await pamSshd?.stop();
    if (created) {
      const r = await runCmd("userdel", ["--remove", KBD_USER]);
      if (r.code !== 0) console.error(`userdel ${KBD_USER}: ${r.stderr}`);
    }
  }
});
