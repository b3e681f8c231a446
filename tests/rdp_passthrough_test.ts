// End to end: a server's password_passthrough decides whether the jump password an NLA client proved may go
// on to the backend. xfreerdp /sec:nla → proxy → freerdp-shadow-cli /sec:nla (and a TLS-only xrdp): without
// passthrough and with an empty vault the backend gets no credential at all; the vault still works.
import assert from "node:assert/strict";
import net from "node:net";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { setServerCredential } from "../db/server_credentials.ts";
import { updateServer } from "../db/servers.ts";
import { parseConnectionRequest, PROTOCOL_SSL } from "../proxy/rdp/pdu/mod.ts";
import { startXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { audits, closedSession, holdSession, sessions } from "./helpers/rdp_shadow.ts";
import { haveNlaTools, JUMP_PASSWORD, nlaLogin, runNla, withNlaShadow } from "./helpers/rdp_nla_env.ts";
import { startXrdp, XRDP_PASSWORD, XRDP_USER } from "./helpers/xrdp.ts";

const ignore = !haveNlaTools();

/**
 * A TCP relay in front of the backend that keeps what the proxy sent on each connection, so a test can
 * say exactly what reached the backend (the X.224 request is plain; anything after it is TLS).
 */
async function tapRelay(backendPort: number) {
  const sent: Uint8Array[][] = [];
  const server = net.createServer((c) => {
    const chunks: Uint8Array[] = [];
    sent.push(chunks);
    const b = net.connect({ host: "127.0.0.1", port: backendPort });
    c.on("data", (d) => chunks.push(new Uint8Array(d)));
    c.pipe(b).pipe(c);
    c.on("error", () => b.destroy());
    b.on("error", () => c.destroy());
    c.on("close", () => b.destroy());
    b.on("close", () => c.destroy());
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** Per connection, the bytes the proxy sent, concatenated. */
    connections: () =>
      sent.map((chunks) => {
        const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) (out.set(c, at), at += c.length);
        return out;
      }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

Deno.test({
  name: "rdp passthrough off, empty vault: an NLA backend that knows the jump password never receives it",
  ignore,
  async fn() {
    // the backend would accept alice's jump password: only the setting keeps it from getting it
    await withNlaShadow(
      [{ user: "alice", password: JUMP_PASSWORD }],
      { rdpSecurity: "nla", passwordPassthrough: false },
      async (env, _shadow, tap) => {
        const t0 = Date.now();
        const r = await runNla(env);
        assert.ok(!r.killed, "the client gave up on its own");
        assert.ok(Date.now() - t0 < 15_000, "a clean denial, not a hang");
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        await env.proxy.auditsSettled();
        const [f] = await audits(env.db.sql, "rdp.backend_failed");
        assert.equal(f.actor, "alice");
        assert.equal(f.details.reason, "passthrough_disabled");
        assert.match(String(f.details.error), /password passthrough is off for server desk/);
        assert.ok(!JSON.stringify(f).includes(JUMP_PASSWORD));
        assert.equal((await audits(env.db.sql, "rdp.credential_used")).length, 0);
        assert.equal((await sessions(env.db.sql)).length, 0);
        // the backend saw one X.224 Connection Request asking for TLS only, then nothing: no TLS, no CredSSP
        const [only, ...more] = tap!.connections();
        assert.equal(more.length, 0, "one backend connection");
        assert.equal(only[0], 0x03, "a TPKT");
        assert.equal(only.length, (only[2] << 8) | only[3], "exactly one TPKT: the Connection Request");
        assert.equal(
          parseConnectionRequest(only).negReq?.requestedProtocols,
          PROTOCOL_SSL,
          "TLS only, no HYBRID",
        );

        // the same client on the same backend with passthrough on: it was the setting, not the backend
        await updateServer(env.db.sql, "desk", { passwordPassthrough: true }, "test", null);
        await new Promise((r) => setTimeout(r, 300)); // the snapshot reloads on NOTIFY
        await holdSession(env, { ...nlaLogin(), activatedMs: 20_000 });
      },
      tapRelay,
    );
  },
});

Deno.test({
  name: "rdp passthrough off: a vaulted credential is still injected towards the NLA backend",
  ignore,
  async fn() {
    await withNlaShadow(
      [{ user: "svc-desk", password: "Vault-pass-9" }],
      { rdpSecurity: "any", passwordPassthrough: false },
      async (env) => {
        const key = await loadApplianceKey(env.dir);
        await setServerCredential(env.db.sql, key, "desk", "svc-desk", "Vault-pass-9", "test");
        await holdSession(env, { ...nlaLogin(), activatedMs: 20_000, holdMs: 1000 });
        const s = await closedSession(env);
        assert.equal(s.termination_reason, "normal");
        assert.equal(s.metadata.client_user, "svc-desk");
        await env.proxy.auditsSettled();
        const [used] = await audits(env.db.sql, "rdp.credential_used");
        assert.equal(used.details.login, "svc-desk");
        assert.equal(used.details.via, "nla");
        assert.equal((await audits(env.db.sql, "rdp.backend_failed")).length, 0);
      },
    );
  },
});

Deno.test({
  name: "rdp passthrough off: a TLS-only xrdp gets the user name without the jump password (no autologon)",
  ignore: ignore || Deno.uid() !== 0,
  async fn() {
    const xrdp = await startXrdp();
    // the jump user has the name and password of the xrdp account: passthrough would log it on
    const shared = { cidr: "127.0.0.1/32", shared: true };
    const env = await startRdpEnv({
      backendPort: xrdp.port,
      aliceSource: shared,
      users: [{ name: XRDP_USER, password: XRDP_PASSWORD, source: shared, grant: true }],
      rdpSecurity: "nla",
      passwordPassthrough: false,
    });
    const xvnc = async () =>
      (await new Deno.Command("pgrep", { args: ["-u", XRDP_USER, "Xvnc"], stdout: "null" }).output()).success;
    const login = nlaLogin(XRDP_USER, XRDP_PASSWORD);
    try {
      assert.equal(await xvnc(), false, "no session of the account before the connection");
      await holdSession(env, {
        ...login,
        activatedMs: 20_000, // xrdp's own logon screen is relayed
        holdMs: 8000,
      });
      assert.equal(await xvnc(), false, "xrdp did not log the account on: it got no password");
      await env.proxy.auditsSettled();
      const [granted] = await audits(env.db.sql, "rdp.access_granted");
      assert.equal(granted.actor, XRDP_USER);
      assert.equal((await audits(env.db.sql, "rdp.backend_failed")).length, 0);

      // control: with passthrough on, the same logon goes through the Client Info and sesman starts Xvnc
      await updateServer(env.db.sql, "desk", { passwordPassthrough: true }, "test", null);
      await new Promise((r) => setTimeout(r, 300));
      const on = await startXfreerdp({ host: POOL_IP, port: env.port, ...login });
      try {
        await eventually(xvnc, 20_000, `an Xvnc session of ${XRDP_USER}`);
      } finally {
        await on.stop();
      }
    } finally {
      await env.close();
      await xrdp.stop();
    }
  },
});
