// The NT hash NTLM proves a password with (MS-NLMP 3.3.1 NTOWFv1/NTOWFv2 input): MD4 of the UTF-16LE
// password. Pure. Deno's node:crypto provides MD4.
import { createHash } from "node:crypto";

export const NT_HASH_BYTES = 16;

export function ntHash(password: string): Uint8Array {
  return new Uint8Array(createHash("md4").update(Buffer.from(password, "utf16le")).digest());
}
