// The verification code an RDP user types with NLA, after a separator at the END OF THE USER NAME (pure):
//
//   alice#123456            jump user alice, TOTP code 123456
//   alice+svc#123456        the same, with the vaulted login "svc" (see rdp_user_name.ts)
//   alice#abcd-efgh-ijkl    a recovery code instead of a TOTP code
//
// Why the user name and not the password: NLA proves the password with NTLMv2, whose proof is keyed by
// MD4(password). The proxy keeps only that NT hash of the jump password, so it can verify a proof made with
// "password" but never one made with "password#123456" (that needs the clear password, which is not kept).
// The user name, on the other hand, enters the proof in clear (NTOWFv2 = HMAC-MD5(NT hash, UPPER(user) +
// domain)): the client proves the jump password for the name "alice#123456", and the proxy reads the code
// from the name it was given.
//
// The code is taken after the LAST separator of the user field, and only when what follows has the shape
// of a code (six digits, or a recovery code); anything else is left alone, so the separator may occur
// elsewhere. Clients split "X\Y" into a domain and a user field before NTLM: the code is at the end of the
// user field either way (mstsc "alice+CORP\svc#123456" → domain "alice+CORP", user "svc#123456").
// The separator is the configuration's rdp_mfa_separator (core/config.ts validates it).
import { normalizeRecoveryCode } from "./recovery_codes.ts";

export interface RdpMfaSplit {
  /** the user field without the code (and its separator) */
  user: string;
  /** the code as typed, or null when none was given */
  code: string | null;
}

/** Takes the code off the end of the NTLM user field. */
export function splitRdpMfaCode(user: string, sep: string): RdpMfaSplit {
  const i = user.lastIndexOf(sep);
  if (i < 0) return { user, code: null };
  const code = user.slice(i + 1);
  if (!/^\d{6}$/.test(code) && normalizeRecoveryCode(code) === null) return { user, code: null };
  return { user: user.slice(0, i), code };
}

/** Text that may carry a code (the mstshash cookie is the typed user name): everything after `sep` hidden. */
export function redactRdpMfaCode(text: string, sep: string): string {
  const i = text.indexOf(sep);
  return i < 0 ? text : `${text.slice(0, i + 1)}…`;
}
