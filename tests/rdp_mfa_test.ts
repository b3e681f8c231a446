// End to end: the TOTP second factor for RDP with NLA. The code goes after the user name
// (xfreerdp /u:alice#123456), because NTLM proves the password with its NT hash only (policy/rdp_mfa_code.ts).
// xfreerdp /sec:nla → proxy (CredSSP as "alice#CODE", the code checked once) → freerdp-shadow-cli /sec:nla,
// which gets alice's own logon by passthrough, without the code. Codes come from oathtool.
import assert from "node:assert/strict";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { enrolTotp, totpFactorOf } from "../db/totp.ts";
import { findUser } from "../db/users.ts";
import { updateServer } from "../db/servers.ts";
import { runXfreerdp, startShadow, startXfreerdp } from "./helpers/rdp_backend.ts";
import { POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { activated, audits, closedSession } from "./helpers/rdp_shadow.ts";
import { haveNlaTools, JUMP_PASSWORD, runNla } from "./helpers/rdp_nla_env.ts";
import { runCmd } from "./helpers/ssh_clients.ts";

const ignore = !haveNlaTools() || !haveOathtool();

function haveOathtool(): boolean {
  try {
    return Deno.statSync("/usr/bin/oathtool").isFile;
  } catch (_e) {
    return false;
  }
}

function utf16le(s: string): Uint8Array {
  return new Uint8Array([...s].flatMap((c) => [c.charCodeAt(0), 0]));
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function oathtool(secret: string): Promise<string> {
  const r = await runCmd("oathtool", ["--totp", "-b", secret]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test({
  name: "rdp mfa: the code after the NLA user name; right once, reused, wrong, missing, TLS: audited",
  ignore,
  async fn(t) {
    const shadow = await startShadow({ nla: [{ user: "alice", password: JUMP_PASSWORD }] });
    const env = await startRdpEnv({
      backendPort: shadow.port,
      alicePassword: JUMP_PASSWORD,
      rdpSecurity: "any",
      setup: (db) => updateServer(db.sql, "desk", { requireMfa: true }, "test", "127.0.0.0/8").then(() => {}),
    });
    const nla = (user: string) =>
      runXfreerdp({
        host: POOL_IP,
        port: env.port,
        user,
        password: JUMP_PASSWORD,
        args: ["/sec:nla"],
        runMs: 20_000,
      });
    const denied = async (n: number) => {
      await env.proxy.auditsSettled();
      const rows = await audits(env.db.sql, "rdp.access_denied");
      assert.equal(rows.length, n, JSON.stringify(rows));
      return rows[n - 1];
    };
    try {
      const alice = (await findUser(env.db.sql, "alice"))!;
      const owner = { kind: "user" as const, id: alice.id, name: "alice" };

      await t.step("demanded by the server, no factor enrolled: refused, mfa_not_enrolled", async () => {
        const r = await nla("alice#123456");
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        const d = await denied(1);
        assert.equal(d.actor, "alice");
        assert.equal(d.details.reason, "mfa_not_enrolled");
      });

      const enrolled = await enrolTotp(env.db.sql, await loadApplianceKey(env.dir), owner, "test");

      await t.step("no code after the user name: refused, mfa_required, no backend", async () => {
        const r = await nla("alice");
        assert.ok(!r.killed, "the client gave up on its own");
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        const d = await denied(2);
        assert.equal(d.details.reason, "mfa_required");
        assert.match(String(d.details.detail), /alice#123456/);
      });

      await t.step("a wrong code: refused, rdp.mfa_failed (wrong)", async () => {
        const code = await oathtool(enrolled.secret);
        const wrong = String((Number(code) + 500_000) % 1_000_000).padStart(6, "0");
        const r = await nla(`alice#${wrong}`);
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        assert.equal((await denied(3)).details.reason, "mfa_wrong");
        const [f] = await audits(env.db.sql, "rdp.mfa_failed");
        assert.equal(f.actor, "alice");
        assert.equal(f.details.reason, "wrong");
      });

      let used = "";
      await t.step(
        "the right code from oathtool: in, the pending factor active, the backend gets alice",
        async () => {
          used = await oathtool(enrolled.secret);
          const c = await startXfreerdp({
            host: POOL_IP,
            port: env.port,
            user: `alice#${used}`,
            password: JUMP_PASSWORD,
            args: ["/sec:nla"],
          });
          try {
            await activated(env, 20_000);
          } finally {
            await c.stop();
          }
          await env.proxy.auditsSettled();
          const [ok] = await audits(env.db.sql, "rdp.mfa_ok");
          assert.equal(ok.actor, "alice");
          assert.equal(ok.details.method, "totp");
          assert.equal(ok.details.first_use, true);
          assert.equal((await totpFactorOf(env.db.sql, owner))?.confirmed, true);
          const [g] = await audits(env.db.sql, "rdp.access_granted");
          assert.equal(g.actor, "alice");
          assert.equal(g.details.cookie, "alice#…", "the code is not kept with the cookie");
          const all = await env.db.sql`SELECT details::text AS d FROM audit_log`;
          assert.ok(!all.some((r) => String(r.d).includes(used)), "the code is never audited");
          const s = await closedSession(env);
          assert.equal(s.metadata.client_user, "alice", "the backend's logon is alice, without the code");
          assert.ok(!JSON.stringify(s.metadata).includes(used), "the code is not in the session's metadata");
          const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings`;
          const bytes = await Deno.readFile(rec.path);
          for (const enc of [new TextEncoder().encode(used), utf16le(used)]) {
            assert.equal(indexOf(bytes, enc), -1, "the code is not in the recording");
          }
        },
      );

      await t.step("the same code again: refused as reused", async () => {
        const r = await nla(`alice#${used}`);
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        assert.equal((await denied(4)).details.reason, "mfa_reused");
        const failed = await audits(env.db.sql, "rdp.mfa_failed");
        assert.equal(failed.at(-1)!.details.reason, "reused");
      });

      await t.step("a TLS client (no NLA, no code) stays refused where MFA is demanded", async () => {
        const r = await runXfreerdp({
          host: POOL_IP,
          port: env.port,
          user: "alice",
          args: ["/sec:tls"],
          runMs: 20_000,
        });
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        assert.equal((await denied(5)).details.reason, "mfa_required");
      });

      await t.step("a recovery code works once in the code's place", async () => {
        const recovery = enrolled.recoveryCodes[0];
        const c = await startXfreerdp({
          host: POOL_IP,
          port: env.port,
          user: `alice#${recovery}`,
          password: JUMP_PASSWORD,
          args: ["/sec:nla"],
        });
        try {
          await activated(env, 20_000);
        } finally {
          await c.stop();
        }
        await env.proxy.auditsSettled();
        const oks = await audits(env.db.sql, "rdp.mfa_ok");
        assert.equal(oks.at(-1)!.details.method, "recovery_code");
        const again = await nla(`alice#${recovery}`);
        assert.match(again.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        assert.equal((await denied(6)).details.reason, "mfa_wrong");
      });
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 2);
    } finally {
      await env.close();
      await shadow.stop();
    }
  },
});

Deno.test({
  name: "rdp mfa: a user with an authenticator needs the code even where no MFA is demanded (as SSH)",
  ignore,
  async fn() {
    const shadow = await startShadow({ nla: [{ user: "alice", password: JUMP_PASSWORD }] });
    const env = await startRdpEnv({
      backendPort: shadow.port,
      alicePassword: JUMP_PASSWORD,
      rdpSecurity: "any",
      proxy: { mfaSeparator: "!" },
    });
    try {
      const alice = (await findUser(env.db.sql, "alice"))!;
      const enrolled = await enrolTotp(
        env.db.sql,
        await loadApplianceKey(env.dir),
        { kind: "user", id: alice.id, name: "alice" },
        "test",
      );
      const tlsClient = await runXfreerdp({
        host: POOL_IP,
        port: env.port,
        user: "alice",
        args: ["/sec:tls"],
        runMs: 20_000,
      });
      assert.match(tlsClient.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      const noCode = await runNla(env);
      assert.match(noCode.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      // a code in the wrong place is no code, and the NLA failure's audit row does not keep it
      const misplaced = await runNla(env, "alice!135791+svc");
      assert.match(misplaced.output, /ERRCONNECT_LOGON_FAILURE/);
      // the configured separator, not '#'
      const c = await startXfreerdp({
        host: POOL_IP,
        port: env.port,
        user: `alice!${await oathtool(enrolled.secret)}`,
        password: JUMP_PASSWORD,
        args: ["/sec:nla"],
      });
      try {
        await activated(env, 20_000);
      } finally {
        await c.stop();
      }
      await env.proxy.auditsSettled();
      const denied = await audits(env.db.sql, "rdp.access_denied");
      assert.deepEqual(denied.map((d) => d.details.reason), ["mfa_required", "mfa_required"]);
      assert.match(String(denied[0].details.detail), /without NLA cannot carry/);
      assert.match(String(denied[1].details.detail), /alice!123456/);
      assert.equal((await audits(env.db.sql, "rdp.mfa_ok")).length, 1);
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 1);
      const [bad] = await audits(env.db.sql, "rdp.nla_failed");
      assert.equal(bad.details.reason, "nla_bad_user_name");
      assert.ok(!JSON.stringify(bad).includes("135791"), JSON.stringify(bad));

      // the factor's lockout is SSH's: the tenth wrong code in a row locks it, then even the right one fails
      await env.db.sql`UPDATE totp_factors SET failures = 9 WHERE user_id = ${alice.id}`;
      for (const code of ["000000", await oathtool(enrolled.secret)]) {
        const r = await runNla(env, `alice!${code}`);
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      }
      await env.proxy.auditsSettled();
      const failed = await audits(env.db.sql, "rdp.mfa_failed");
      assert.deepEqual(failed.map((f) => f.details.reason), ["locked", "locked"]);
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 1, "no second grant");
    } finally {
      await env.close();
      await shadow.stop();
    }
  },
});
