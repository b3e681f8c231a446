// End to end with Network Level Authentication: xfreerdp /sec:nla → proxy (CredSSP server: the jump user
// proves their password) → freerdp-shadow-cli /sec:nla +auth /sam-file (CredSSP client: passthrough of what
// the user typed, or a credential from the server's vault). Every denial is audited and contacts no backend.
import assert from "node:assert/strict";
import net from "node:net";
import { openRecording, readRecording, RecordType } from "../recorder/rdp_file.ts";
import { createRenderer } from "../recorder/rdp_render/mod.ts";
import tls from "node:tls";
import {
  hex,
  parseConnectionConfirm,
  parseFastPathOutput,
  parseMcsConnectResponse,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
} from "../proxy/rdp/pdu/mod.ts";
import { SPEC_CONNECT_INITIAL } from "../proxy/rdp/pdu/fixtures_spec.ts";
import { CredSspClient } from "../proxy/rdp/nla/credssp_client.ts";
import { AUTHZ_ACCESS_DENIED, parseEarlyUserAuthResult } from "../proxy/rdp/nla/early_auth.ts";
import { subjectPublicKey } from "../proxy/rdp/nla/x509.ts";
import { connectionRequest, rawConnect, readTpkt } from "./helpers/rdp_raw_client.ts";
import { startXrdp, XRDP_PASSWORD, XRDP_USER } from "./helpers/xrdp.ts";
import { makeCerts } from "./helpers/certs.ts";
import { startNlaServer } from "./helpers/rdp_nla.ts";
import { ntHash } from "../proxy/rdp/nla/crypto.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import { setServerCredential } from "../db/server_credentials.ts";
import { runXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, type RdpEnv, type RdpEnvOptions, startRdpEnv } from "./helpers/rdp_env.ts";
import { audits, closedSession, holdSession, sessions, withShadow } from "./helpers/rdp_shadow.ts";
import { haveNlaTools, JUMP_PASSWORD, nlaLogin, runNla, withNlaShadow } from "./helpers/rdp_nla_env.ts";

const ignore = !haveNlaTools();

/** The backend's X display as RGB, without the mouse cursor. */
async function screenshot(display: string): Promise<Uint8Array> {
  const args = ["-v", "error", "-f", "x11grab", "-draw_mouse", "0", "-video_size", "1024x768", "-i", display];
  const out = await new Deno.Command("ffmpeg", {
    args: [...args, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ffmpeg: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** The recording replayed by the console's renderer shows what the backend's screen shows. */
async function assertRenders(path: string, display: string) {
  const r = createRenderer({ width: 1024, height: 768 });
  for await (const rec of readRecording(path)) {
    if (rec.type === RecordType.SERVER_FASTPATH) r.feedServerFastPath(rec.payload);
    else if (rec.type === RecordType.SERVER_SLOWPATH) r.feedServerSlowPath(rec.payload);
  }
  const f = r.frame();
  const shot = await screenshot(display);
  const p = r.pointer;
  const [x0, y0] = [p.x - p.shape.hotX - 1, p.y - p.shape.hotY - 1];
  const [x1, y1] = [x0 + p.shape.width + 2, y0 + p.shape.height + 2];
  let differ = 0;
  for (let y = 0; y < 768; y++) {
    for (let x = 0; x < 1024; x++) {
      if (p.visible && x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      const i = y * 1024 + x;
      if ([0, 1, 2].some((k) => f.rgba[i * 4 + k] !== shot[i * 3 + k])) differ++;
    }
  }
  assert.equal(differ, 0, `${differ} pixels differ from the backend's screen`);
  const colours = new Set<number>();
  for (let i = 0; i < shot.length; i += 3) colours.add((shot[i] << 16) | (shot[i + 1] << 8) | shot[i + 2]);
  assert.ok(colours.size >= 2, "the screen shows something (the test window on the root), not a blank frame");
}

/** The recording of the only session: rendered updates and a clean end, as the TLS tests expect. */
async function assertRecorded(env: RdpEnv) {
  const s = await closedSession(env);
  assert.equal(s.termination_reason, "normal");
  assert.ok(s.recording_size! > 10_000, `recording of ${s.recording_size} bytes`);
  const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings`;
  const reader = await openRecording(rec.path);
  assert.equal(reader.header.width, 1024);
  reader.close();
  const updateCodes = new Set<number>();
  let ended = 0;
  for await (const r of readRecording(rec.path)) {
    if (r.type === RecordType.SERVER_FASTPATH) {
      for (const u of parseFastPathOutput(r.payload).updates) updateCodes.add(u.updateCode);
    }
    if (r.type === RecordType.END) ended++;
  }
  assert.ok(updateCodes.has(1), `bitmap updates expected, saw ${[...updateCodes]}`);
  assert.equal(ended, 1);
  return { ...s, recordingPath: rec.path };
}

Deno.test({
  name:
    "rdp nla: xfreerdp /sec:nla through the proxy to an NLA shadow with passthrough, recorded and rendered",
  ignore,
  async fn() {
    await withNlaShadow(
      [{ user: "alice", password: JUMP_PASSWORD }],
      { rdpSecurity: "nla" },
      async (env, shadow) => {
        await holdSession(env, {
          ...nlaLogin("alice", JUMP_PASSWORD, ["/d:CORP"]),
          activatedMs: 20_000,
          holdMs: 2500,
        });
        const s = await assertRecorded(env);
        assert.equal(s.metadata.client_user, "CORP\\alice");
        await assertRenders(s.recordingPath, shadow.display);
        await env.proxy.auditsSettled();
        const granted = await audits(env.db.sql, "rdp.access_granted");
        assert.equal(granted.length, 1);
        assert.equal(granted[0].actor, "alice");
      },
    );
  },
});

Deno.test({
  name:
    "rdp nla: a vaulted credential is injected towards the NLA backend; the jump password stays at the jump",
  ignore,
  async fn() {
    // the backend knows only the service account: it can only have been the vault's credential
    await withNlaShadow(
      [{ user: "svc-desk", password: "Vault-pass-9" }],
      { rdpSecurity: "any" },
      async (env) => {
        const key = await loadApplianceKey(env.dir);
        await setServerCredential(env.db.sql, key, "desk", "svc-desk", "Vault-pass-9", "test");
        await holdSession(env, { ...nlaLogin(), activatedMs: 20_000, holdMs: 2500 });
        const s = await assertRecorded(env);
        assert.equal(s.metadata.client_user, "svc-desk", "the session is the backend's logon");
        await env.proxy.auditsSettled();
        const used = await audits(env.db.sql, "rdp.credential_used");
        assert.equal(used.length, 1);
        assert.equal(used[0].actor, "alice");
        assert.equal(used[0].details.login, "svc-desk");
        assert.equal(used[0].details.via, "nla");
        assert.ok(!JSON.stringify(used).includes("Vault-pass-9"), "the password is never audited");
      },
    );
  },
});

/** xfreerdp offering NLA and TLS (no /sec:) to a user without an NT hash: TLS is selected and works. */
async function offeredNlaGetsTls(rdpSecurity: "tls" | "any") {
  await withShadow(async (shadow) => {
    // alice has no jump password at all (source-address users): NLA could only fail for her
    const env = await startRdpEnv({ backendPort: shadow.port, rdpSecurity });
    try {
      await holdSession(env, { args: [], activatedMs: 20_000 });
      await env.proxy.auditsSettled();
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 1);
      assert.equal((await audits(env.db.sql, "rdp.nla_failed")).length, 0);
    } finally {
      await env.close();
    }
  });
}

Deno.test({
  name: "rdp nla: a tls server never offers NLA; xfreerdp with default negotiation gets TLS and works",
  ignore,
  fn: () => offeredNlaGetsTls("tls"),
});

Deno.test({
  name: "rdp nla: on an any server a user without an NT hash still gets TLS when the client offers NLA",
  ignore,
  fn: () => offeredNlaGetsTls("any"),
});

/** A TCP listener standing in for the backend: it only counts connections (there must be none). */
async function countingBackend(): Promise<{ port: number; count(): number; close(): Promise<void> }> {
  let n = 0;
  const s = net.createServer((c) => {
    n++;
    c.destroy();
  });
  await new Promise<void>((r) => s.listen({ host: "127.0.0.1", port: 0 }, r));
  return {
    port: (s.address() as net.AddressInfo).port,
    count: () => n,
    close: () => new Promise((r) => s.close(() => r())),
  };
}

async function withCountingBackend(
  env: Omit<RdpEnvOptions, "backendPort">,
  fn: (e: RdpEnv) => Promise<void>,
) {
  const backend = await countingBackend();
  const e = await startRdpEnv({ backendPort: backend.port, alicePassword: JUMP_PASSWORD, ...env });
  try {
    await fn(e);
    assert.equal(backend.count(), 0, "the backend was never contacted");
  } finally {
    await e.close();
    await backend.close();
  }
}

Deno.test({
  name: "rdp nla: a wrong jump password is a logon failure for the client, audited, throttled, no backend",
  ignore,
  async fn() {
    await withCountingBackend({
      rdpSecurity: "nla",
      proxy: {
        nlaThrottle: {
          user: { windowMs: 60_000, maxFailures: 2, blockMs: 60_000 },
          source: { windowMs: 60_000, maxFailures: 50, blockMs: 60_000 },
        },
      },
    }, async (env) => {
      for (let i = 0; i < 2; i++) {
        const r = await runNla(env, "alice", "not-the-password");
        assert.ok(!r.killed, "the client gave up on its own");
        assert.match(r.output, /ERRCONNECT_LOGON_FAILURE/);
      }
      // blocked now: even the right password fails until the block ends
      const blocked = await runNla(env);
      assert.match(blocked.output, /ERRCONNECT_LOGON_FAILURE/);
      await env.proxy.auditsSettled();
      const failed = await audits(env.db.sql, "rdp.nla_failed");
      assert.deepEqual(failed.map((f) => [f.actor, f.details.reason]), [
        ["alice", "nla_wrong_password"],
        ["alice", "nla_wrong_password"],
      ]);
      const throttled = await audits(env.db.sql, "rdp.nla_throttled");
      assert.equal(throttled.length, 1);
      assert.equal(throttled[0].actor, "alice");
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 0);
      assert.equal((await sessions(env.db.sql)).length, 0);
    });
  },
});

Deno.test({
  name: "rdp nla: an NLA-only backend without a credential is a clean, audited denial",
  ignore,
  async fn() {
    await withNlaShadow(
      [{ user: "svc-desk", password: "Vault-pass-9" }],
      { rdpSecurity: "any" },
      async (env) => {
        // a TLS client: the proxy has nothing to hand the backend, which requires NLA
        const t0 = Date.now();
        const r = await runXfreerdp({ host: POOL_IP, port: env.port, args: ["/sec:tls"], runMs: 20_000 });
        assert.ok(!r.killed, "the client gave up on its own");
        assert.ok(Date.now() - t0 < 15_000);
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        await env.proxy.auditsSettled();
        const [f] = await audits(env.db.sql, "rdp.backend_failed");
        assert.equal(f.details.reason, "nla_required");
        assert.match(String(f.details.error), /requires Network Level Authentication/);
        assert.equal((await sessions(env.db.sql)).length, 0);
      },
    );
  },
});

Deno.test({
  name: "rdp nla: on a shared source the cookie never picks the user; NLA proves who it is",
  ignore,
  async fn() {
    const shared = { cidr: "127.0.0.1/32", shared: true };
    await withCountingBackend({
      rdpSecurity: "any",
      aliceSource: shared,
      users: [{ name: "bob", password: "Bob-jump-22", source: shared }],
    }, async (env) => {
      // bob types alice's name without NLA: the shared source is not resolved by the name
      const spoof = await runXfreerdp({
        host: POOL_IP,
        port: env.port,
        user: "alice",
        args: ["/sec:tls"],
        runMs: 20_000,
      });
      assert.match(spoof.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      // with NLA bob is bob, who has no grant
      const asBob = await runNla(env, "bob", "Bob-jump-22");
      assert.match(asBob.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      // and bob cannot prove to be alice with his own password
      const asAlice = await runNla(env, "alice", "Bob-jump-22");
      assert.match(asAlice.output, /ERRCONNECT_LOGON_FAILURE/);
      await env.proxy.auditsSettled();
      const denied = await audits(env.db.sql, "rdp.access_denied");
      assert.deepEqual(denied.map((d) => [d.actor, d.details.reason]), [
        ["unknown", "ambiguous_source"],
        ["bob", "no_policy"],
      ]);
      assert.match(String(denied[0].details.detail), /shared CIDR/);
      const failed = await audits(env.db.sql, "rdp.nla_failed");
      assert.deepEqual(failed.map((d) => [d.actor, d.details.reason]), [["alice", "nla_wrong_password"]]);
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 0);
    });
  },
});

Deno.test({
  name: "rdp nla: a Windows login outside the policy's list is denied before the backend",
  ignore,
  async fn() {
    await withCountingBackend({ rdpSecurity: "nla", logins: ["CORP\\alice-adm"] }, async (env) => {
      // passthrough would log on as CORP\alice, which the grant does not allow
      const r = await runNla(env, "alice", JUMP_PASSWORD, ["/d:CORP"]);
      assert.ok(!r.killed);
      assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
      await env.proxy.auditsSettled();
      const [d] = await audits(env.db.sql, "rdp.access_denied");
      assert.equal(d.actor, "alice");
      assert.equal(d.details.reason, "login_not_allowed");
      assert.match(String(d.details.detail), /CORP\\\\alice/);
    });
  },
});

/**
 * A HYBRID_EX client (what mstsc offers; xfreerdp 2 cannot): X.224, TLS, CredSSP as alice, then the
 * Early User Authorization Result; on success an MCS Connect Initial (the MS-RDPBCGR sample, which says
 * serverSelectedProtocol 0) whose Connect Response proves the backend accepted the rewritten one.
 */
async function hybridExClient(
  port: number,
  password: string,
  o: { authzOnly?: boolean } = {},
): Promise<{ authz: number; mcsResult?: number }> {
  const plain = await rawConnect(POOL_IP, port);
  try {
    plain.write(connectionRequest(PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX, "alice"));
    const cc = parseConnectionConfirm(await readTpkt(plain, 10_000));
    assert.deepEqual(cc.negotiation, { type: "response", flags: 1, selectedProtocol: PROTOCOL_HYBRID_EX });
    plain.socket.removeAllListeners("data");
    const t: tls.TLSSocket = await new Promise((resolve, reject) => {
      const s = tls.connect({ socket: plain.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    const client = new CredSspClient({
      publicKey: subjectPublicKey(new Uint8Array(t.getPeerCertificate().raw)),
      credentials: { domain: "", user: "alice", password },
    });
    let buf = new Uint8Array(0);
    let done = false;
    const received = (n: number) =>
      eventually(() => buf.length >= n && buf, 15_000, `${n} bytes after CredSSP (have ${buf.length})`);
    t.on("data", (d: Uint8Array) => {
      if (done) {
        buf = new Uint8Array([...buf, ...d]);
        return;
      }
      const step = client.receive(new Uint8Array(d));
      for (const b of step.send) t.write(b);
      if (step.error) throw step.error;
      if (step.done) {
        done = true;
        buf = step.done.rest.slice();
      }
    });
    t.write(client.start());
    const authz = parseEarlyUserAuthResult((await received(4)).slice(0, 4)).code;
    if (authz !== 0 || o.authzOnly) return { authz };
    buf = buf.slice(4);
    t.write(SPEC_CONNECT_INITIAL);
    const head = await received(4);
    const len = (head[2] << 8) | head[3];
    const frame = (await received(len)).slice(0, len);
    t.destroy();
    return { authz, mcsResult: parseMcsConnectResponse(frame).result };
  } finally {
    plain.destroy();
  }
}

Deno.test({
  name: "rdp nla: HYBRID_EX clients get the Early User Authorization Result, success or denial",
  ignore,
  async fn() {
    await withNlaShadow([{ user: "alice", password: JUMP_PASSWORD }], { rdpSecurity: "nla" }, async (env) => {
      const r = await hybridExClient(env.port, JUMP_PASSWORD);
      assert.deepEqual(r, { authz: 0, mcsResult: 0 });
      await env.proxy.auditsSettled();
      assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 1);
    });
    await withCountingBackend({ rdpSecurity: "nla", logins: ["other"] }, async (env) => {
      assert.deepEqual(await hybridExClient(env.port, JUMP_PASSWORD), { authz: AUTHZ_ACCESS_DENIED });
      await env.proxy.auditsSettled();
      const [d] = await audits(env.db.sql, "rdp.access_denied");
      assert.equal(d.details.reason, "login_not_allowed");
    });
  },
});

Deno.test({
  name: "rdp nla: a vaulted credential logs on to a TLS-only xrdp through the Client Info (autologon)",
  ignore: ignore || Deno.uid() !== 0,
  async fn() {
    const xrdp = await startXrdp();
    const env = await startRdpEnv({
      backendPort: xrdp.port,
      alicePassword: JUMP_PASSWORD,
      rdpSecurity: "nla",
    });
    try {
      const key = await loadApplianceKey(env.dir);
      await setServerCredential(env.db.sql, key, "desk", XRDP_USER, XRDP_PASSWORD, "test");
      const xvnc = async () =>
        (await new Deno.Command("pgrep", { args: ["-u", XRDP_USER, "Xvnc"], stdout: "null" }).output())
          .success;
      assert.equal(await xvnc(), false, "no session of the account before the connection");
      // alice types her jump password; xrdp (TLS only, PAM) only knows the vaulted account's
      await holdSession(env, {
        ...nlaLogin(),
        activatedMs: 20_000,
        // sesman starts an Xvnc session as the vaulted account only when PAM accepted the injected logon
        whileActive: () => eventually(xvnc, 15_000, `an Xvnc session of ${XRDP_USER}`),
        holdMs: 4000, // its desktop drawn, for the recording
      });
      const s = await closedSession(env);
      assert.equal(s.termination_reason, "normal");
      assert.ok(s.recording_size! > 10_000, `recording of ${s.recording_size} bytes`);
      await env.proxy.auditsSettled();
      // the injected Client Info has INFO_AUTOLOGON: still not "logged on" (keystrokes stay redacted)
      assert.equal(s.metadata.logged_on_at ?? null, null);
      const [used] = await audits(env.db.sql, "rdp.credential_used");
      assert.equal(used.details.login, XRDP_USER);
      assert.equal(used.details.via, "client_info");
    } finally {
      await env.close();
      await xrdp.stop();
    }
  },
});

Deno.test({
  name: "rdp nla: a malformed CredSSP message closes that connection only, audited, no backend",
  ignore,
  async fn() {
    await withCountingBackend({ rdpSecurity: "nla" }, async (env) => {
      for (const garbage of ["ff ff ff ff", "30 03 02 01 ff", "30 84 7f ff ff ff"]) {
        const plain = await rawConnect(POOL_IP, env.port);
        plain.write(connectionRequest(PROTOCOL_SSL | PROTOCOL_HYBRID, "alice"));
        const cc = parseConnectionConfirm(await readTpkt(plain, 10_000));
        assert.equal(cc.negotiation?.type === "response" && cc.negotiation.selectedProtocol, PROTOCOL_HYBRID);
        plain.socket.removeAllListeners("data");
        const t: tls.TLSSocket = await new Promise((resolve, reject) => {
          const s = tls.connect({ socket: plain.socket, rejectUnauthorized: false }, () => resolve(s));
          s.once("error", reject);
        });
        t.on("error", () => {});
        t.resume();
        const closed = new Promise<boolean>((r) => {
          const timer = setTimeout(() => r(false), 10_000);
          t.once("close", () => {
            clearTimeout(timer);
            r(true);
          });
        });
        t.write(hex(garbage));
        assert.ok(await closed, `the proxy closed the connection after ${garbage}`);
        plain.destroy();
      }
      await env.proxy.auditsSettled();
      const failed = await audits(env.db.sql, "rdp.nla_failed");
      assert.equal(failed.length, 3, JSON.stringify(failed));
      for (const f of failed) assert.match(String(f.details.reason), /^nla_(malformed|protocol)$/);
    });
  },
});

Deno.test({
  name:
    "rdp nla: a backend selecting HYBRID_EX gets CredSSP, its Early User Authorization Result is consumed",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "jh-nla-ex-" });
    const certs = await makeCerts(dir);
    for (const backendPassword of [JUMP_PASSWORD, "something-else"]) {
      const backend = await startNlaServer({
        certPem: certs.ok.cert,
        keyPem: certs.ok.key,
        hybridEx: true,
        lookupNtHash: (user) => Promise.resolve(user === "alice" ? ntHash(backendPassword) : null),
      });
      const env = await startRdpEnv({
        backendPort: backend.port,
        alicePassword: JUMP_PASSWORD,
        rdpSecurity: "nla",
      });
      try {
        const r = await hybridExClient(env.port, JUMP_PASSWORD, { authzOnly: true });
        const [attempt] = backend.attempts;
        assert.equal(attempt.selectedProtocol, PROTOCOL_HYBRID_EX);
        await env.proxy.auditsSettled();
        if (backendPassword === JUMP_PASSWORD) {
          // passthrough: the backend got alice's own logon, and said yes after CredSSP
          assert.deepEqual(attempt.result?.credentials, {
            domain: "",
            user: "alice",
            password: JUMP_PASSWORD,
          });
          assert.equal(r.authz, 0);
        } else {
          assert.equal(attempt.error?.code, "logon_failure");
          assert.equal(r.authz, AUTHZ_ACCESS_DENIED, "the client is refused, not left hanging");
          const [f] = await audits(env.db.sql, "rdp.backend_failed");
          assert.equal(f.details.reason, "nla_failed");
        }
      } finally {
        await env.close();
        await backend.close();
      }
    }
    await Deno.remove(dir, { recursive: true });
  },
});
