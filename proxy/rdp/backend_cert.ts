// Backend certificate pinning: RDP servers present self-signed certificates, so instead of a CA the
// proxy trusts a server's first certificate (pinned in the database) and refuses a different one later,
// which is what an attacker in the path between the appliance and the backend would present.
import type tls from "node:tls";
import type { CertPinCheck } from "../../db/rdp_cert_pins.ts";

export interface CertPins {
  check(serverId: number, sha256: string): Promise<CertPinCheck>;
}

export type CertVerdict =
  | { ok: true; sha256: string; pinned: boolean }
  | { ok: false; sha256: string | null; detail: string };

/** SHA-256 of the backend's certificate as "AA:BB:…", or null when it presented none. */
export function peerFingerprint(stream: tls.TLSSocket): string | null {
  const c = stream.getPeerCertificate();
  return typeof c?.fingerprint256 === "string" && c.fingerprint256 ? c.fingerprint256 : null;
}

/** Fails closed: no certificate, or no answer from the database, is a refusal. */
export async function verifyBackendCert(
  pins: CertPins,
  serverId: number,
  stream: tls.TLSSocket,
): Promise<CertVerdict> {
  const sha256 = peerFingerprint(stream);
  if (!sha256) return { ok: false, sha256, detail: "the backend presented no TLS certificate" };
  let r: CertPinCheck;
  try {
    r = await pins.check(serverId, sha256);
  } catch (e) {
    return { ok: false, sha256, detail: `cannot check the pinned certificate: ${(e as Error).message}` };
  }
  if (r === "mismatch") {
    return {
      ok: false,
      sha256,
      detail: "the backend's TLS certificate differs from the pinned one (reset the pin if it was renewed)",
    };
  }
  return { ok: true, sha256, pinned: r === "pinned" };
}
