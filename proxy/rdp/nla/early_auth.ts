/**
 * MS-RDPBCGR 2.2.10.2 Early User Authorization Result PDU: with PROTOCOL_HYBRID_EX the server sends
 * these 4 bytes (little-endian) over TLS right after CredSSP, before the client sends MCS.
 */
import { ensure } from "../pdu/errors.ts";
import { ByteReader, ByteWriter } from "../pdu/reader.ts";

export const AUTHZ_SUCCESS = 0x00000000;
export const AUTHZ_ACCESS_DENIED = 0x00000005;

export function encodeEarlyUserAuthResult(ok: boolean): Uint8Array {
  return new ByteWriter(4).u32le(ok ? AUTHZ_SUCCESS : AUTHZ_ACCESS_DENIED).finish();
}

/** Reads the 4-byte result from the start of `b`; returns it and the bytes after it. */
export function parseEarlyUserAuthResult(b: Uint8Array): { ok: boolean; code: number; rest: Uint8Array } {
  const r = new ByteReader(b, "Early User Authorization Result");
  const code = r.u32le("authorizationResult");
  ensure(
    code === AUTHZ_SUCCESS || code === AUTHZ_ACCESS_DENIED,
    "invalid",
    `authorization result 0x${code.toString(16)}`,
  );
  return { ok: code === AUTHZ_SUCCESS, code, rest: r.rest() };
}
