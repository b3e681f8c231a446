// The WebAuthn ceremonies of console passkeys, over @simplewebauthn/server: options for the browser and
// the checks of what it answers. The relying party is the console's own origin as the browser reached it:
// a passkey registered at https://jump.example.org works there only (the browser binds it to that name).
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Ceremony, PasskeyRow } from "../../db/console_passkeys.ts";

export class PasskeyError extends Error {
  override name = "PasskeyError";
  constructor(
    readonly code: "ip_host" | "insecure" | "malformed" | "rejected" | "expired" | "unknown_key",
    message: string,
  ) {
    super(message);
  }
}

export interface RelyingParty {
  rpId: string;
  origin: string;
}

/**
 * The relying party for a request URL. Browsers allow WebAuthn only on https or http://localhost, and never
 * with an IP address as the RP ID.
 */
export function relyingPartyOf(url: URL): RelyingParty {
  const host = url.hostname;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[")) {
    throw new PasskeyError("ip_host", "Passkeys need the console reached by a host name, not an IP address.");
  }
  if (url.protocol !== "https:" && host !== "localhost") {
    throw new PasskeyError("insecure", "Passkeys need the console over HTTPS.");
  }
  return { rpId: host, origin: url.origin };
}

const transportsOf = (t: string[]) =>
  t as ("usb" | "nfc" | "ble" | "internal" | "hybrid" | "cable" | "smart-card")[];

/** Options for adding a passkey: discoverable (usable without a name) and verified (PIN or biometrics). */
export async function registrationOptions(
  rp: RelyingParty,
  user: { id: number; name: string },
  existing: PasskeyRow[],
) {
  return await generateRegistrationOptions({
    rpName: "jumphost",
    rpID: rp.rpId,
    userName: user.name,
    // a stable opaque handle, not the name: names can be reused after an account is deleted
    userID: new TextEncoder().encode(`console-user:${user.id}`),
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({
      id: p.credential_id,
      transports: transportsOf(p.transports),
    })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
}

export interface NewPasskey {
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
}

export async function checkRegistration(response: unknown, ceremony: Ceremony): Promise<NewPasskey> {
  if (!isCredentialJson(response)) {
    throw new PasskeyError("malformed", "The browser's answer is not a passkey.");
  }
  let v;
  try {
    v = await verifyRegistrationResponse({
      // deno-lint-ignore no-explicit-any
      response: response as any,
      expectedChallenge: ceremony.challenge,
      expectedOrigin: ceremony.origin,
      expectedRPID: ceremony.rpId,
      requireUserVerification: true,
    });
  } catch (e) {
    throw new PasskeyError("rejected", `The passkey was not accepted: ${(e as Error).message}`);
  }
  if (!v.verified) throw new PasskeyError("rejected", "The passkey was not accepted.");
  const c = v.registrationInfo.credential;
  return {
    credentialId: c.id,
    publicKey: new Uint8Array(c.publicKey),
    signCount: c.counter,
    transports: c.transports ?? [],
  };
}

/** Options for a login: any discoverable passkey of this site, or (second factor) one of `allow`. */
export async function authenticationOptions(rp: RelyingParty, allow: PasskeyRow[] | null) {
  return await generateAuthenticationOptions({
    rpID: rp.rpId,
    userVerification: "required",
    allowCredentials: allow?.map((p) => ({ id: p.credential_id, transports: transportsOf(p.transports) })),
  });
}

/** The credential id a login answer names (to find the stored passkey), or null. */
export function credentialIdOf(response: unknown): string | null {
  return isCredentialJson(response) ? response.id : null;
}

/** Checks a login answer against the stored passkey; returns the authenticator's new counter. */
export async function checkAuthentication(
  response: unknown,
  ceremony: Ceremony,
  key: PasskeyRow,
): Promise<number> {
  if (!isCredentialJson(response)) {
    throw new PasskeyError("malformed", "The browser's answer is not a passkey.");
  }
  if (key.rp_id !== ceremony.rpId) {
    throw new PasskeyError("unknown_key", "This passkey belongs to another address of the console.");
  }
  let v;
  try {
    v = await verifyAuthenticationResponse({
      // deno-lint-ignore no-explicit-any
      response: response as any,
      expectedChallenge: ceremony.challenge,
      expectedOrigin: ceremony.origin,
      expectedRPID: ceremony.rpId,
      credential: {
        id: key.credential_id,
        publicKey: new Uint8Array(key.public_key),
        counter: key.sign_count,
        transports: transportsOf(key.transports),
      },
      requireUserVerification: true,
    });
  } catch (e) {
    throw new PasskeyError("rejected", `The passkey was not accepted: ${(e as Error).message}`);
  }
  if (!v.verified) throw new PasskeyError("rejected", "The passkey was not accepted.");
  return v.authenticationInfo.newCounter;
}

function isCredentialJson(r: unknown): r is { id: string; rawId: string; type: string; response: object } {
  if (typeof r !== "object" || r === null) return false;
  const o = r as Record<string, unknown>;
  return typeof o.id === "string" && /^[A-Za-z0-9_-]{16,1400}$/.test(o.id) && typeof o.rawId === "string" &&
    o.type === "public-key" && typeof o.response === "object" && o.response !== null;
}
