// The certificate the proxy shows RDP clients. Operator-provided PEM files are used as they are;
// otherwise a self-signed RSA certificate is generated once with the openssl CLI under
// <dataDir>/rdp (directory 0700, key 0600) and reused on every start, so clients that pinned it on
// first use keep trusting it.
import { join } from "node:path";
import { RdpProxyError } from "./errors.ts";

export interface TlsMaterial {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  generated: boolean;
}

export interface TlsOptions {
  dataDir: string;
  /** Operator-provided files (both or neither). */
  certPath?: string | null;
  keyPath?: string | null;
  /** CN and DNS subjectAltName of a generated certificate. */
  hostname?: string;
  openssl?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export function defaultCertPaths(dataDir: string): { certPath: string; keyPath: string } {
  const dir = join(dataDir, "rdp");
  return { certPath: join(dir, "tls_cert.pem"), keyPath: join(dir, "tls_key.pem") };
}

export async function loadOrCreateCertificate(o: TlsOptions): Promise<TlsMaterial> {
  if ((o.certPath == null) !== (o.keyPath == null)) {
    throw new RdpProxyError(
      "certificate",
      "an RDP TLS certificate needs both the certificate and the key file",
    );
  }
  if (o.certPath && o.keyPath) return await load(o.certPath, o.keyPath, false, o.log);
  const { certPath, keyPath } = defaultCertPaths(o.dataDir);
  if (await exists(certPath) && await exists(keyPath)) return await load(certPath, keyPath, false, o.log);
  await generate(certPath, keyPath, o);
  return await load(certPath, keyPath, true, o.log);
}

async function load(
  certPath: string,
  keyPath: string,
  generated: boolean,
  log: TlsOptions["log"],
): Promise<TlsMaterial> {
  try {
    const [cert, key, st] = await Promise.all([
      Deno.readTextFile(certPath),
      Deno.readTextFile(keyPath),
      Deno.stat(keyPath),
    ]);
    if (!/-----BEGIN CERTIFICATE-----/.test(cert)) throw new Error(`${certPath} holds no PEM certificate`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      throw new Error(`${keyPath} holds no PEM private key`);
    }
    if (st.mode !== null && (st.mode & 0o077) !== 0) {
      log?.("RDP TLS key is readable by group or others", {
        path: keyPath,
        mode: (st.mode & 0o777).toString(8),
      });
    }
    return { cert, key, certPath, keyPath, generated };
  } catch (e) {
    throw new RdpProxyError("certificate", `cannot load the RDP TLS certificate: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

async function generate(certPath: string, keyPath: string, o: TlsOptions): Promise<void> {
  const dir = join(o.dataDir, "rdp");
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  // generate beside the final names, then rename: a crash never leaves half a key in place
  const tmp = await Deno.makeTempDir({ dir, prefix: ".gen-" });
  try {
    const cn = (o.hostname ?? Deno.hostname()).replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 63) || "jumphost";
    const args = [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-sha256",
      "-days",
      "3650",
      "-nodes",
      "-keyout",
      join(tmp, "key.pem"),
      "-out",
      join(tmp, "cert.pem"),
      "-subj",
      `/CN=${cn}`,
      "-addext",
      `subjectAltName=DNS:${cn}`,
      "-addext",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ];
    const out = await new Deno.Command(o.openssl ?? "openssl", { args, stdout: "null", stderr: "piped" })
      .output()
      .catch((e) => {
        throw new RdpProxyError("certificate", `cannot run openssl: ${(e as Error).message}`, { cause: e });
      });
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("; ");
      throw new RdpProxyError("certificate", `openssl failed to create the RDP certificate: ${err}`);
    }
    await Deno.chmod(join(tmp, "key.pem"), 0o600);
    await Deno.chmod(join(tmp, "cert.pem"), 0o644);
    await Deno.rename(join(tmp, "key.pem"), keyPath);
    await Deno.rename(join(tmp, "cert.pem"), certPath);
    o.log?.("generated the RDP TLS certificate", { cert: certPath });
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
