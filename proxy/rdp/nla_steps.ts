// The two authentication steps NLA adds to a connection, as the connection code sees them: CredSSP as a
// server on the client's TLS leg (the user proves their jump password) and as a client on the backend's
// TLS leg (the proxy hands over a Windows credential). The protocol lives in proxy/rdp/nla/.
import type tls from "node:tls";
import { ByteWriter } from "./pdu/mod.ts";

/** A logon as CredSSP carries it (TSPasswordCreds). */
export interface Logon {
  domain: string;
  user: string;
  password: string;
}

export type ClientNlaResult =
  | { ok: true; logon: Logon }
  /** The client was told (TSRequest errorCode) before this resolves; `userName` when NTLM named one. */
  | { ok: false; reason: string; detail: string; userName?: string };

export interface NlaSteps {
  /** CredSSP server over the client's TLS leg, bound to the proxy's own certificate. */
  acceptClient(
    stream: tls.TLSSocket,
    o: { sourceIp: string; timeoutMs: number },
  ): Promise<ClientNlaResult>;
  /** CredSSP client over the backend's TLS leg, bound to the backend's public key; throws on failure. */
  authenticateBackend(stream: tls.TLSSocket, logon: Logon, o: { timeoutMs: number }): Promise<void>;
}

/** MS-RDPBCGR 2.2.10.2 Early User Authorization Result PDU (HYBRID_EX, after CredSSP). */
export const AUTHZ_SUCCESS = 0x00000000;
export const AUTHZ_ACCESS_DENIED = 0x00000005;

export function encodeEarlyUserAuthResult(result: number): Uint8Array {
  return new ByteWriter(4).u32le(result).finish();
}

export function parseEarlyUserAuthResult(b: Uint8Array): number {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
