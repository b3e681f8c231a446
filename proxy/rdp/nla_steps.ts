// The two authentication steps NLA adds to a connection, as the connection code sees them: CredSSP as a
// server on the client's TLS leg (the user proves their jump password) and as a client on the backend's
// TLS leg (the proxy hands over a Windows credential). The protocol lives in proxy/rdp/nla/; the glue
// between it and the sockets in nla_legs.ts.
import type tls from "node:tls";

/** A logon as CredSSP carries it (TSPasswordCreds). */
export interface Logon {
  domain: string;
  user: string;
  password: string;
}

export type ClientNlaResult =
  | { ok: true; logon: Logon }
  /** The client was told (TSRequest errorCode) before this resolves. */
  | {
    ok: false;
    action: "rdp.nla_failed" | "rdp.nla_throttled";
    reason: string;
    detail: string;
    /** The jump user the client named, when it got that far. */
    userName?: string;
  };

export interface NlaSteps {
  /** Whether this jump user could pass NLA at all (has a readable NT hash). */
  canAuthenticate(jumpUser: string): Promise<boolean>;
  /** CredSSP server over the client's TLS leg, bound to the proxy's own certificate. */
  acceptClient(
    stream: tls.TLSSocket,
    o: { sourceIp: string; certificatePem: string; timeoutMs: number },
  ): Promise<ClientNlaResult>;
  /** CredSSP client over the backend's TLS leg, bound to the backend's public key; throws on failure. */
  authenticateBackend(stream: tls.TLSSocket, logon: Logon, o: { timeoutMs: number }): Promise<void>;
}
