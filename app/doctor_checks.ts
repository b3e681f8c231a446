// The checks of `jumphost doctor`. Each returns lines {status, check, detail}; none throws for a broken
// setup (that is a FAIL line). The pure judgements (free space, certificate dates, port owner) are
// separate from the probing so they can be tested on their own.
import { statfsSync } from "node:fs";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { dirname } from "node:path";
import type { Config, ListenAddress } from "../core/config.ts";
import { SSH_COMPRESSION } from "../core/ssh_algorithms.ts";
import { findProgram, type IfAddr, isJumphostServe, type ProbeResult } from "./net_probe.ts";
import { createOidcClient } from "../web/oidc/client.ts";
import { type CryptoBackend, cryptoBackend } from "../proxy/ssh/libcrypto.ts";

export type Status = "ok" | "warn" | "fail";

export interface CheckLine {
  status: Status;
  check: string;
  detail: string;
}

export const GiB = 1024 ** 3;

export function judgeFreeSpace(dir: string, availableBytes: number, existing: string): CheckLine {
  const gib = (availableBytes / GiB).toFixed(1);
  const where = existing === dir ? dir : `${dir} (not created yet; ${existing})`;
  if (availableBytes < 100 * 1024 ** 2) {
    return { status: "fail", check: "recordings space", detail: `${where}: only ${gib} GiB free` };
  }
  if (availableBytes < GiB) {
    return {
      status: "warn",
      check: "recordings space",
      detail: `${where}: ${gib} GiB free (less than 1 GiB)`,
    };
  }
  return { status: "ok", check: "recordings space", detail: `${where}: ${gib} GiB free` };
}

export function checkFreeSpace(dir: string): CheckLine {
  let p = dir;
  for (;;) {
    try {
      Deno.statSync(p);
      break;
    } catch (_e) {
      if (p === "/") break;
      p = dirname(p);
    }
  }
  try {
    const s = statfsSync(p);
    return judgeFreeSpace(dir, Number(s.bavail) * Number(s.bsize), p);
  } catch (e) {
    return { status: "fail", check: "recordings space", detail: `${dir}: ${(e as Error).message}` };
  }
}

export function checkFfmpeg(): Promise<CheckLine> {
  const bin = findProgram("ffmpeg");
  if (!bin) {
    return Promise.resolve({
      status: "fail",
      check: "ffmpeg",
      detail: "not found in PATH: RDP recordings cannot be converted to video (apt-get install ffmpeg)",
    });
  }
  return new Deno.Command(bin, { args: ["-hide_banner", "-version"], stdout: "piped", stderr: "null" })
    .output()
    .then((o): CheckLine => {
      const first = new TextDecoder().decode(o.stdout).split("\n")[0].replace(/\s*Copyright.*$/, "").trim();
      return o.success
        ? { status: "ok", check: "ffmpeg", detail: `${bin}: ${first.slice(0, 80)}` }
        : { status: "fail", check: "ffmpeg", detail: `${bin} -version exited ${o.code}` };
    })
    .catch((e) => ({ status: "fail", check: "ffmpeg", detail: `${bin}: ${(e as Error).message}` }));
}

function fmtListen(a: ListenAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Pure: one line for a listen address from what the probe found. */
export function judgeListen(kind: string, a: ListenAddress, r: ProbeResult): CheckLine {
  const check = `${kind} listen`;
  const at = fmtListen(a);
  switch (r.state) {
    case "free":
      return { status: "ok", check, detail: `${at} can be bound` };
    case "in_use":
      if (r.owner && isJumphostServe(r.owner.argv)) {
        return { status: "ok", check, detail: `${at} is served by jumphost (pid ${r.owner.pid})` };
      }
      return {
        status: "fail",
        check,
        detail: r.owner
          ? `${at} is in use by ${r.owner.argv[0]?.split("/").pop() ?? "?"} (pid ${r.owner.pid})`
          : `${at} is in use by another process`,
      };
    case "denied":
      // the systemd unit grants CAP_NET_BIND_SERVICE; an interactive doctor run may not have it
      return {
        status: "warn",
        check,
        detail: `${at}: port below 1024 needs CAP_NET_BIND_SERVICE (the jumphost.service unit grants it)`,
      };
    case "no_address":
      return { status: "fail", check, detail: `${at}: ${a.host} is not an address of this machine` };
    case "error":
      return { status: "fail", check, detail: `${at}: ${r.message}` };
  }
}

export function listenLines(config: Config, probe: (host: string, port: number) => ProbeResult): CheckLine[] {
  const out: CheckLine[] = [];
  const kinds: [string, ListenAddress[]][] = [["ssh", config.sshListen], ["rdp", config.rdpListen], [
    "web",
    config.webListen,
  ]];
  for (const [kind, list] of kinds) {
    for (const a of list) {
      out.push(
        a.port === 0
          ? { status: "ok", check: `${kind} listen`, detail: `${fmtListen(a)}: any free port` }
          : judgeListen(kind, a, probe(a.host, a.port)),
      );
    }
  }
  return out;
}

/** Pure: pool IPs of servers against the machine's addresses. */
export function judgePool(wanted: { ip: string; server: string }[], addrs: IfAddr[]): CheckLine {
  if (wanted.length === 0) return { status: "ok", check: "pool IPs", detail: "no server has a pool IP" };
  const missing = wanted.filter((w) => !addrs.some((a) => a.local === w.ip));
  if (missing.length === 0) {
    return { status: "ok", check: "pool IPs", detail: `all ${wanted.length} present on an interface` };
  }
  const list = missing.slice(0, 5).map((m) => `${m.ip} (${m.server})`).join(", ");
  return {
    status: "fail",
    check: "pool IPs",
    detail: `${missing.length} of ${wanted.length} missing: ${list}${missing.length > 5 ? ", …" : ""}` +
      " (run: jumphost pool apply)",
  };
}

/** Pure: certificate dates and key match → one line. `warnDays` before expiry it warns. */
export function judgeCertificate(
  certPem: string,
  keyPem: string,
  now: Date,
  warnDays = 14,
): CheckLine {
  const check = "web TLS";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    return { status: "fail", check, detail: `certificate unreadable: ${(e as Error).message}` };
  }
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const subject = cert.subject.replace(/\n/g, ", ");
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
      return { status: "fail", check, detail: `the key does not belong to the certificate (${subject})` };
    }
  } catch (e) {
    return { status: "fail", check, detail: `key unreadable: ${(e as Error).message}` };
  }
  const day = 86_400_000;
  if (to.getTime() <= now.getTime()) {
    return {
      status: "fail",
      check,
      detail: `certificate ${subject} expired on ${to.toISOString().slice(0, 10)}`,
    };
  }
  if (from.getTime() > now.getTime()) {
    return { status: "fail", check, detail: `certificate ${subject} not valid before ${from.toISOString()}` };
  }
  const left = Math.floor((to.getTime() - now.getTime()) / day);
  if (left < warnDays) {
    return { status: "warn", check, detail: `certificate ${subject} expires in ${left} days` };
  }
  return {
    status: "ok",
    check,
    detail: `certificate ${subject} valid until ${to.toISOString().slice(0, 10)}`,
  };
}

export function checkCertificate(config: Config, now: Date): CheckLine {
  if (!config.webTlsCert || !config.webTlsKey) {
    return {
      status: config.profile === "installed" ? "warn" : "ok",
      check: "web TLS",
      detail: "not configured: the console is served over plain HTTP (set web_tls_cert and web_tls_key)",
    };
  }
  let cert: string, key: string;
  try {
    cert = Deno.readTextFileSync(config.webTlsCert);
    key = Deno.readTextFileSync(config.webTlsKey);
  } catch (e) {
    return { status: "fail", check: "web TLS", detail: (e as Error).message };
  }
  return judgeCertificate(cert, key, now);
}

export function checkDataDir(config: Config): CheckLine {
  const src = config.configFile ?? "defaults (no config file)";
  try {
    const st = Deno.statSync(config.dataDir);
    if (!st.isDirectory) {
      return {
        status: "fail",
        check: "configuration",
        detail: `data dir ${config.dataDir} is not a directory`,
      };
    }
  } catch (_e) {
    return {
      status: "warn",
      check: "configuration",
      detail: `${src}; data dir ${config.dataDir} does not exist yet (created on first start)`,
    };
  }
  return {
    status: "ok",
    check: "configuration",
    detail: `${src} (profile ${config.profile}, node ${config.nodeId}, data ${config.dataDir})`,
  };
}

/** Algorithms `ssh-audit` 2.5 fails (or, for SHA-1 MACs, flags): accepted when configured, with a warning. */
const SSH_WEAK =
  /^(ecdh-sha2-nistp|diffie-hellman-group1-sha1|diffie-hellman-group14-sha1|diffie-hellman-group-exchange-sha1|hmac-sha1|3des-|aes\d+-cbc)/;

/** The SSH algorithm lists both proxy legs offer, as configured; a warning names the weak ones. */
export function sshAlgorithmLines(config: Config): CheckLine[] {
  const line = (check: string, list: string[]): CheckLine => {
    const weak = list.filter((a) => SSH_WEAK.test(a));
    return {
      status: weak.length ? "warn" : "ok",
      check,
      detail: list.join(",") + (weak.length ? ` (weak, ssh-audit flags: ${weak.join(", ")})` : ""),
    };
  };
  return [
    line("ssh kex", config.sshKex),
    line("ssh ciphers", config.sshCiphers),
    line("ssh macs", config.sshMacs),
    { status: "ok", check: "ssh compression", detail: SSH_COMPRESSION.join(",") },
  ];
}

/**
 * The SSH proxy's packet crypto: OpenSSL's libcrypto through FFI, or node:crypto (a WARN: several times the
 * CPU per byte relayed) when libcrypto.so.3 cannot be loaded or JUMPHOST_SSH_CRYPTO=node is set. Judged in
 * this process, which loads the library the way the proxy worker does.
 */
export function sshCryptoLine(backend: CryptoBackend = cryptoBackend()): CheckLine {
  return backend.name === "openssl"
    ? { status: "ok", check: "ssh packet crypto", detail: `OpenSSL libcrypto (${backend.detail})` }
    : { status: "warn", check: "ssh packet crypto", detail: `node:crypto, slower: ${backend.detail}` };
}

/**
 * Single sign-on: the OpenID provider answers discovery. A WARN when it does not (the console still works
 * with local accounts); no line when single sign-on is not configured.
 */
export async function checkSingleSignOn(config: Pick<Config, "oidc">): Promise<CheckLine | null> {
  if (!config.oidc) return null;
  try {
    await createOidcClient(config.oidc).ready();
    return { status: "ok", check: "single sign-on", detail: `${config.oidc.issuer} answers discovery` };
  } catch (e) {
    return { status: "warn", check: "single sign-on", detail: (e as Error).message };
  }
}
