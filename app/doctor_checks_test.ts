import assert from "node:assert/strict";
import {
  checkSingleSignOn,
  GiB,
  judgeCertificate,
  judgeFreeSpace,
  judgeListen,
  judgePool,
  sshAlgorithmLines,
  sshCryptoLine,
} from "./doctor_checks.ts";
import { resolveConfig } from "../core/config.ts";
import { makeCerts } from "../tests/helpers/certs.ts";
import { startOidcProvider } from "../tests/helpers/oidc_provider.ts";
import { resolveOidcConfig } from "../core/oidc/config.ts";

Deno.test("judgeCertificate() passes a valid cert, warns near expiry, fails expired, foreign key and garbage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = await makeCerts(dir);
    const now = new Date();
    const ok = judgeCertificate(c.ok.cert, c.ok.key, now);
    assert.equal(ok.status, "ok", ok.detail);
    assert.match(ok.detail, /CN=ok valid until \d{4}-\d\d-\d\d/);
    const soon = judgeCertificate(c.soon.cert, c.soon.key, now);
    assert.equal(soon.status, "warn");
    assert.match(soon.detail, /expires in [23] days/);
    const old = judgeCertificate(c.old.cert, c.old.key, now);
    assert.equal(old.status, "fail");
    assert.match(old.detail, /expired on 2020-01-02/);
    const foreign = judgeCertificate(c.ok.cert, c.soon.key, now);
    assert.equal(foreign.status, "fail");
    assert.match(foreign.detail, /key does not belong/);
    assert.equal(judgeCertificate("nope", c.ok.key, now).status, "fail");
    assert.equal(judgeCertificate(c.ok.cert, "nope", now).status, "fail");
    // not yet valid
    assert.match(judgeCertificate(c.ok.cert, c.ok.key, new Date("2001-01-01")).detail, /not valid before/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("judgeFreeSpace() warns under 1 GiB and fails under 100 MiB", () => {
  assert.equal(judgeFreeSpace("/r", 5 * GiB, "/r").status, "ok");
  const w = judgeFreeSpace("/r", 0.5 * GiB, "/");
  assert.equal(w.status, "warn");
  assert.match(w.detail, /\/r \(not created yet; \/\): 0\.5 GiB free \(less than 1 GiB\)/);
  assert.equal(judgeFreeSpace("/r", 10 * 1024 ** 2, "/r").status, "fail");
});

Deno.test("judgeListen() tells our own listener from someone else's, and explains the others", () => {
  const a = { host: "0.0.0.0", port: 22 };
  const cases: [Parameters<typeof judgeListen>[2], string, RegExp][] = [
    [{ state: "free" }, "ok", /0\.0\.0\.0:22 can be bound/],
    [
      { state: "in_use", owner: { pid: 7, argv: ["/usr/local/bin/jumphost", "serve"] } },
      "ok",
      /served by jumphost \(pid 7\)/,
    ],
    [
      { state: "in_use", owner: { pid: 8, argv: ["/usr/sbin/sshd", "-D"] } },
      "fail",
      /in use by sshd \(pid 8\)/,
    ],
    [{ state: "in_use", owner: null }, "fail", /in use by another process/],
    [{ state: "denied" }, "warn", /CAP_NET_BIND_SERVICE/],
    [{ state: "no_address" }, "fail", /not an address of this machine/],
    [{ state: "error", message: "boom" }, "fail", /boom/],
  ];
  for (const [probe, status, re] of cases) {
    const l = judgeListen("ssh", a, probe);
    assert.equal(l.status, status, JSON.stringify(probe));
    assert.match(l.detail, re);
    assert.equal(l.check, "ssh listen");
  }
  assert.match(judgeListen("web", { host: "::1", port: 8443 }, { state: "free" }).detail, /^\[::1\]:8443/);
});

Deno.test("judgePool() lists missing pool IPs with their servers", () => {
  const addrs = [{ ifname: "lo", family: "inet" as const, local: "10.0.0.1", prefixlen: 32 }];
  assert.equal(judgePool([], addrs).status, "ok");
  assert.equal(judgePool([{ ip: "10.0.0.1", server: "a" }], addrs).status, "ok");
  const f = judgePool([{ ip: "10.0.0.1", server: "a" }, { ip: "10.0.0.2", server: "b" }], addrs);
  assert.equal(f.status, "fail");
  assert.equal(f.detail, "1 of 2 missing: 10.0.0.2 (b) (run: jumphost pool apply)");
});

Deno.test("sshAlgorithmLines() shows the effective lists and warns on weak ones", () => {
  const base = resolveConfig({
    profile: "checkout",
    cwd: "/srv",
    hostname: "h",
    flags: {},
    env: {},
    file: {},
    configFile: null,
  });
  const ok = sshAlgorithmLines(base);
  assert.deepEqual(ok.map((l) => [l.check, l.status]), [
    ["ssh kex", "ok"],
    ["ssh ciphers", "ok"],
    ["ssh macs", "ok"],
    ["ssh compression", "ok"],
  ]);
  assert.match(ok[0].detail, /^mlkem768x25519-sha256,curve25519-sha256,/);
  assert.match(ok[1].detail, /^chacha20-poly1305@openssh\.com,aes128-ctr/);
  assert.equal(ok[3].detail, "none");
  const weak = sshAlgorithmLines({
    ...base,
    sshKex: ["curve25519-sha256", "ecdh-sha2-nistp256"],
    sshMacs: ["hmac-sha1"],
  });
  assert.equal(weak[0].status, "warn");
  assert.match(weak[0].detail, /weak, ssh-audit flags: ecdh-sha2-nistp256/);
  assert.equal(weak[2].status, "warn");
});

Deno.test("checkSingleSignOn(): no line without oidc_issuer, OK when the provider answers, WARN naming it when not", async () => {
  assert.equal(await checkSingleSignOn({ oidc: null }), null);
  const idp = await startOidcProvider({ redirectUris: ["http://127.0.0.1:1/login/oidc/callback"] });
  const settings = (issuer: string) =>
    resolveOidcConfig(
      {
        oidc_issuer: issuer,
        oidc_client_id: idp.clientId,
        oidc_client_secret: idp.clientSecret,
        oidc_role_admin: "a",
        oidc_allow_insecure: true,
      },
      {},
      () => "",
    );
  try {
    const up = await checkSingleSignOn({ oidc: settings(idp.issuer) });
    assert.equal(up?.status, "ok", up?.detail);
  } finally {
    await idp.stop();
  }
  const down = await checkSingleSignOn({ oidc: settings(idp.issuer) });
  assert.equal(down?.status, "warn");
  assert.match(down!.detail, new RegExp(`${idp.issuer} did not answer discovery`));
  assert.doesNotMatch(down!.detail, new RegExp(idp.clientSecret));
});

Deno.test("sshCryptoLine() names OpenSSL when libcrypto is loaded, warns on the node:crypto fallback", () => {
  const here = sshCryptoLine(); // this machine has Debian's libssl3
  assert.equal(here.status, "ok", here.detail);
  assert.match(here.detail, /^OpenSSL libcrypto \(OpenSSL 3\./);
  const fallback = sshCryptoLine({ name: "node:crypto", detail: "JUMPHOST_SSH_CRYPTO=node" });
  assert.equal(fallback.status, "warn");
  assert.equal(fallback.detail, "node:crypto, slower: JUMPHOST_SSH_CRYPTO=node");
});
