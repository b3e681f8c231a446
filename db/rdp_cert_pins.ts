// Pinned RDP backend certificates (trust on first use, like SSH host keys; see 006_rdp_cert_pins.sql).
import type { Sql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { changeEvent } from "./audit_events.ts";
import { InputError, NotFoundError } from "./errors.ts";

export type CertPinCheck = "pinned" | "match" | "mismatch";

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/** "aa:bb…" or "aabb…" → canonical "AA:BB:…"; throws InputError for anything else. */
export function normaliseCertFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha256[:=]/i, "").replace(/:/g, "").toUpperCase();
  const fp = hex.match(/.{2}/g)?.join(":") ?? "";
  if (!FINGERPRINT.test(fp)) {
    throw new InputError(
      "rdp_cert_sha256",
      "expected a SHA-256 fingerprint (64 hex digits, colons optional)",
    );
  }
  return fp;
}

/**
 * Pins `fingerprint` for the server if none is pinned yet (audited as a TOFU pin), else compares it
 * with the pinned one.
 */
export async function checkRdpCertPin(
  sql: Sql,
  serverId: number,
  fingerprint: string,
  actor: string,
): Promise<CertPinCheck> {
  const fp = normaliseCertFingerprint(fingerprint);
  // every connection after the first: one read, not a write transaction (~3 ms of each RDP setup)
  const [known] = await sql<{ rdp_cert_sha256: string | null }[]>`
    SELECT rdp_cert_sha256 FROM servers WHERE id = ${serverId}`;
  if (!known) throw new NotFoundError("server", String(serverId));
  if (known.rdp_cert_sha256 !== null) return known.rdp_cert_sha256 === fp ? "match" : "mismatch";
  // first use: pin in one transaction (another connection may pin first; its pin is then compared)
  return await sql.begin(async (tx) => {
    const r = await tx<
      { name: string }[]
    >`UPDATE servers SET rdp_cert_sha256 = ${fp}, rdp_cert_pinned_at = now()
      WHERE id = ${serverId} AND rdp_cert_sha256 IS NULL RETURNING name`;
    if (r.length) {
      await writeAudit(
        tx,
        changeEvent(actor, "server.rdp_cert_pinned", r[0].name, { tofu: true, sha256: fp }),
      );
      return "pinned";
    }
    const [row] = await tx<{ rdp_cert_sha256: string | null }[]>`
      SELECT rdp_cert_sha256 FROM servers WHERE id = ${serverId}`;
    if (!row) throw new NotFoundError("server", String(serverId));
    return row.rdp_cert_sha256 === fp ? "match" : "mismatch";
  }) as CertPinCheck;
}
