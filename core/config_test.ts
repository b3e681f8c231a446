import assert from "node:assert/strict";
import { ConfigError, type ConfigSources, resolveConfig } from "./config.ts";

const base: ConfigSources = {
  profile: "checkout",
  cwd: "/srv/jh",
  hostname: "bastion1",
  flags: {},
  env: {},
  file: {},
  configFile: null,
};

Deno.test("resolveConfig() gives checkout and installed defaults", () => {
  const c = resolveConfig(base);
  assert.equal(c.dataDir, "/srv/jh/data");
  assert.equal(c.databaseUrl, null);
  assert.deepEqual(c.sshListen, [{ host: "0.0.0.0", port: 2222 }]);
  assert.deepEqual(c.rdpListen, [{ host: "0.0.0.0", port: 33389 }]);
  assert.equal(c.recordingsDir, "/srv/jh/data/recordings");
  assert.equal(c.nodeId, "bastion1");
  const i = resolveConfig({ ...base, profile: "installed" });
  assert.equal(i.dataDir, "/var/lib/jumphost");
  assert.deepEqual(i.sshListen, [{ host: "0.0.0.0", port: 22 }]);
  assert.deepEqual(i.rdpListen, [{ host: "0.0.0.0", port: 3389 }]);
  assert.equal(i.recordingsDir, "/var/log/jumphost/recordings");
  assert.equal(c.conversionPreset, "ultrafast");
  assert.equal(c.mp4CacheMaxMib, 20480);
  assert.equal(c.onRecordingFailure, "disconnect", "fail closed by default");
  assert.equal(
    resolveConfig({ ...base, env: { JUMPHOST_ON_RECORDING_FAILURE: "continue" } }).onRecordingFailure,
    "continue",
  );
  const v = resolveConfig({ ...base, file: { conversion_preset: "veryfast", mp4_cache_max_mib: 4096 } });
  assert.equal(v.conversionPreset, "veryfast");
  assert.equal(v.mp4CacheMaxMib, 4096);
});

Deno.test("resolveConfig() takes flags over environment over file", () => {
  const c = resolveConfig({
    ...base,
    file: { ssh_listen: ["127.0.0.1:1", "127.0.0.2:2"], ip_pool: "10.0.0.0/24", data_dir: "rel" },
    env: { JUMPHOST_SSH_LISTEN: "127.0.0.3:3,[::1]:4", JUMPHOST_IP_POOL: "10.9.0.0/24" },
    flags: { "ssh-listen": ["127.0.0.5:5"] },
  });
  assert.deepEqual(c.sshListen, [{ host: "127.0.0.5", port: 5 }]);
  assert.equal(c.ipPool, "10.9.0.0/24");
  assert.equal(c.dataDir, "/srv/jh/rel");
  const e = resolveConfig({ ...base, env: { JUMPHOST_SSH_LISTEN: "127.0.0.3:3,[::1]:4" } });
  assert.deepEqual(e.sshListen, [{ host: "127.0.0.3", port: 3 }, { host: "::1", port: 4 }]);
  const f = resolveConfig({ ...base, file: { rdp_listen: [":3389"] } });
  assert.deepEqual(f.rdpListen, [{ host: "0.0.0.0", port: 3389 }]);
});

Deno.test("resolveConfig() names the bad key in one line", () => {
  const cases: [Partial<ConfigSources>, RegExp][] = [
    [{ file: { ssh_listn: "x" } }, /ssh_listn: unknown key/],
    [{ file: { ssh_listen: "127.0.0.1" } }, /ssh_listen: "127\.0\.0\.1" is not HOST:PORT/],
    [{ env: { JUMPHOST_WEB_LISTEN: "a:0" } }, /JUMPHOST_WEB_LISTEN: port 0 out of range/],
    [{ flags: { "ip-pool": "10.0.0.0/99x" } }, /--ip-pool: "10\.0\.0\.0\/99x" is not a CIDR/],
    [{ file: { web_tls_cert: "/c.pem" } }, /web_tls_key: TLS needs both cert and key/],
    [{ file: { log_level: "loud" } }, /log_level: must be debug/],
    [{ env: { JUMPHOST_RDP_TLS_KEY: "/k.pem" } }, /rdp_tls_cert: TLS needs both cert and key/],
    [{ file: { node_id: "a b" } }, /node_id: must match/],
    [{ file: { data_dir: 5 } }, /data_dir: expected a string/],
    [{ file: { conversion_preset: "warp" } }, /conversion_preset: must be one of ultrafast, superfast/],
    [{ env: { JUMPHOST_MP4_CACHE_MAX_MIB: "12" } }, /JUMPHOST_MP4_CACHE_MAX_MIB: must be a whole number/],
    [{ flags: { "mp4-cache-max-mib": "2.5" } }, /--mp4-cache-max-mib: must be a whole number/],
    [
      { file: { ssh_kex: ["curve25519-sha256", "sntrup761x25519-sha512"] } },
      /ssh_kex: unsupported: sntrup761/,
    ],
    [
      { env: { JUMPHOST_SSH_CIPHERS: "aes128-ctr,arcfour" } },
      /JUMPHOST_SSH_CIPHERS: unsupported: arcfour \(/,
    ],
    [{ file: { ssh_macs: [] } }, /ssh_macs: needs at least one algorithm/],
    [{ file: { ssh_macs: "hmac-sha2-256,hmac-sha2-256" } }, /ssh_macs: hmac-sha2-256 is listed twice/],
    [{ file: { ssh_kex: 3 } }, /ssh_kex: expected a list of algorithm names/],
    [{ file: { on_recording_failure: "ignore" } }, /on_recording_failure: must be disconnect or continue/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => resolveConfig({ ...base, ...src }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, re);
      assert.equal(e.message.split("\n").length, 1);
      return true;
    });
  }
});

Deno.test("recording_encryption: off by default; age with recording_recipients checked as age1… keys", () => {
  assert.equal(resolveConfig(base).recordingEncryption, "off");
  assert.deepEqual(resolveConfig(base).recordingRecipients, []);
  // a key made by age-keygen
  const r = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  const c = resolveConfig({
    ...base,
    env: { JUMPHOST_RECORDING_ENCRYPTION: "age", JUMPHOST_RECORDING_RECIPIENTS: `${r}, ${r}` },
  });
  assert.equal(c.recordingEncryption, "age");
  assert.deepEqual(c.recordingRecipients, [r, r]);
  assert.throws(
    () => resolveConfig({ ...base, file: { recording_encryption: "aes" } }),
    /must be off or age/,
  );
  assert.throws(
    () => resolveConfig({ ...base, file: { recording_recipients: [r.slice(0, -1) + "q"] } }),
    /recording_recipients: not an age X25519 recipient \(bad checksum\)/,
  );
  assert.throws(
    () => resolveConfig({ ...base, file: { recording_recipients: ["ssh-ed25519 AAAA"] } }),
    /recording_recipients: not an age X25519 recipient/,
  );
});

Deno.test("console_mfa: optional by default, required from the file or JUMPHOST_CONSOLE_MFA, anything else refused", () => {
  assert.equal(resolveConfig(base).consoleMfa, "optional");
  assert.equal(resolveConfig({ ...base, file: { console_mfa: "required" } }).consoleMfa, "required");
  assert.equal(resolveConfig({ ...base, env: { JUMPHOST_CONSOLE_MFA: "required" } }).consoleMfa, "required");
  assert.throws(() => resolveConfig({ ...base, file: { console_mfa: "sometimes" } }), ConfigError);
});

Deno.test("resolveConfig() gives OpenSSH's algorithm lists less what ssh-audit fails, and takes the operator's", () => {
  const c = resolveConfig(base);
  assert.equal(c.sshKex[0], "mlkem768x25519-sha256");
  assert.ok(!c.sshKex.some((k) => k.startsWith("ecdh-sha2-nistp") || k.endsWith("-sha1")));
  assert.equal(c.sshCiphers[0], "chacha20-poly1305@openssh.com");
  assert.deepEqual(c.sshMacs, [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
  ]);
  const o = resolveConfig({
    ...base,
    env: { JUMPHOST_SSH_KEX: "curve25519-sha256, ecdh-sha2-nistp256" },
    file: { ssh_ciphers: ["aes256-gcm@openssh.com"], ssh_macs: "hmac-sha1" },
  });
  assert.deepEqual(o.sshKex, ["curve25519-sha256", "ecdh-sha2-nistp256"]);
  assert.deepEqual(o.sshCiphers, ["aes256-gcm@openssh.com"]);
  assert.deepEqual(o.sshMacs, ["hmac-sha1"]);
});

Deno.test("rdp_mfa_separator: '#' by default; one printable character that user names do not use", () => {
  assert.equal(resolveConfig(base).rdpMfaSeparator, "#");
  assert.equal(resolveConfig({ ...base, file: { rdp_mfa_separator: "!" } }).rdpMfaSeparator, "!");
  assert.equal(resolveConfig({ ...base, env: { JUMPHOST_RDP_MFA_SEPARATOR: "%" } }).rdpMfaSeparator, "%");
  for (const bad of ["+", "\\", "@", "-", ".", "_", "a", "7", " ", "##", "é"]) {
    assert.throws(() => resolveConfig({ ...base, file: { rdp_mfa_separator: bad } }), ConfigError, bad);
  }
});

Deno.test("stream_recording_max_mib: default 64, 0 allowed, negative or fractional refused", () => {
  assert.equal(resolveConfig(base).streamRecordingMaxMib, 64);
  assert.equal(resolveConfig({ ...base, file: { stream_recording_max_mib: 0 } }).streamRecordingMaxMib, 0);
  for (const bad of [-1, 1.5]) {
    assert.throws(
      () => resolveConfig({ ...base, file: { stream_recording_max_mib: bad } }),
      /stream_recording_max_mib/,
    );
  }
});

Deno.test("request_wait_minutes: default 10, 1-1440, from the file or the environment", () => {
  assert.equal(resolveConfig(base).requestWaitMinutes, 10);
  assert.equal(resolveConfig({ ...base, file: { request_wait_minutes: 30 } }).requestWaitMinutes, 30);
  assert.equal(
    resolveConfig({ ...base, env: { JUMPHOST_REQUEST_WAIT_MINUTES: "5" } }).requestWaitMinutes,
    5,
  );
  for (const bad of [0, 1441, 2.5, "soon"]) {
    assert.throws(
      () => resolveConfig({ ...base, file: { request_wait_minutes: bad } }),
      /request_wait_minutes/,
    );
  }
});

Deno.test("oidc_* keys: known to the config file, off by default, errors name the key", () => {
  assert.equal(resolveConfig(base).oidc, null);
  const c = resolveConfig({
    ...base,
    file: { oidc_issuer: "https://idp.example.com", oidc_client_id: "jh", oidc_role_auditor: "audit" },
    env: { JUMPHOST_OIDC_CLIENT_SECRET: "s" },
  });
  assert.equal(c.oidc?.issuer, "https://idp.example.com");
  assert.equal(c.oidc?.clientSecret, "s");
  assert.deepEqual(c.oidc?.roleGroups.auditor, ["audit"]);
  assert.throws(
    () => resolveConfig({ ...base, file: { oidc_issuer: "https://idp.example.com", oidc_role_admin: "a" } }),
    (e: unknown) =>
      e instanceof ConfigError && /oidc_client_id: is required with oidc_issuer/.test(e.message),
  );
});

Deno.test("proxy_protocol_from, proxy_protocol and trusted_proxies: off by default, CIDR lists, typos refused", () => {
  const d = resolveConfig(base);
  assert.deepEqual([d.proxyProtocolFrom, d.proxyProtocol, d.trustedProxies], [[], "required", []]);
  const c = resolveConfig({
    ...base,
    file: {
      proxy_protocol_from: ["127.0.0.2/32", "10.0.0.0/8"],
      trusted_proxies: "192.0.2.1, 2001:db8::/32",
    },
    env: { JUMPHOST_PROXY_PROTOCOL: "optional" },
  });
  assert.deepEqual(c.proxyProtocolFrom, ["127.0.0.2/32", "10.0.0.0/8"]);
  assert.equal(c.proxyProtocol, "optional");
  assert.deepEqual(c.trustedProxies, ["192.0.2.1", "2001:db8::/32"]);
  const bad: [Partial<ConfigSources>, RegExp][] = [
    [
      { file: { proxy_protocol_from: ["10.0.0.0/33"] } },
      /proxy_protocol_from: "10\.0\.0\.0\/33" is not a CIDR/,
    ],
    [
      { env: { JUMPHOST_TRUSTED_PROXIES: "300.1.1.1" } },
      /JUMPHOST_TRUSTED_PROXIES: "300\.1\.1\.1" is not a CIDR/,
    ],
    [{ file: { trusted_proxies: "haproxy.local" } }, /trusted_proxies: "haproxy\.local" is not a CIDR/],
    [{ file: { proxy_protocol: "off" } }, /proxy_protocol: must be required or optional/],
  ];
  for (const [src, re] of bad) assert.throws(() => resolveConfig({ ...base, ...src }), re);
});
