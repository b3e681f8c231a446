// The slice of npm:ssh2 (which ships no types) that the proxy uses, typed at the boundary.
import "./ssh2_crypto.ts"; // first: hooks ssh2's packet crypto before ssh2 loads (see there)
import ssh2 from "ssh2";
import type { Duplex, Readable, Writable } from "node:stream";
import type { Socket } from "node:net";

// deno-lint-ignore no-explicit-any
type Untyped = any;
const lib = ssh2 as Untyped;

export { generateKeyPairSync, type ParsedKey, parseKey } from "../../keys/ssh2_keys.ts";

export interface PtyInfo {
  cols: number;
  rows: number;
  width: number;
  height: number;
  term: string;
  modes: Record<string, number>;
}

/** A server-side channel (ssh2 Channel, server mode). */
export interface ServerChannel extends Duplex {
  stderr: Writable;
  exit(status: number): void;
  exit(signal: string, coreDumped: boolean, msg: string): void;
  close(): void;
}

/** A client-side channel to the backend. */
export interface ClientChannel extends Duplex {
  stderr: Readable;
  setWindow(rows: number, cols: number, height: number, width: number): void;
  signal(name: string): void;
  close(): void;
}

export type Accept<T = void> = () => T;
export type Reject = () => void;

export interface ServerSession {
  on(ev: "pty", fn: (accept: Accept | undefined, reject: Reject | undefined, info: PtyInfo) => void): this;
  on(
    ev: "window-change",
    fn: (accept: Accept | undefined, reject: Reject | undefined, info: PtyInfo) => void,
  ): this;
  on(
    ev: "env",
    fn: (accept: Accept | undefined, reject: Reject | undefined, info: { key: string; val: string }) => void,
  ): this;
  on(
    ev: "signal",
    fn: (accept: Accept | undefined, reject: Reject | undefined, info: { name: string }) => void,
  ): this;
  on(ev: "auth-agent", fn: (accept: Accept | undefined, reject: Reject | undefined) => void): this;
  on(ev: "x11", fn: (accept: Accept | undefined, reject: Reject | undefined) => void): this;
  on(ev: "shell", fn: (accept: Accept<ServerChannel>, reject: Reject) => void): this;
  on(
    ev: "exec",
    fn: (accept: Accept<ServerChannel>, reject: Reject, info: { command: string }) => void,
  ): this;
  on(
    ev: "subsystem",
    fn: (accept: Accept<ServerChannel>, reject: Reject, info: { name: string }) => void,
  ): this;
  on(ev: "close" | "end" | "eof", fn: () => void): this;
}

export interface AuthContextBase {
  username: string;
  method: "none" | "password" | "publickey" | "keyboard-interactive" | "hostbased";
  accept(): void;
  reject(methods?: string[], isPartial?: boolean): void;
  on(ev: "abort", fn: () => void): void;
}
export interface PasswordAuth extends AuthContextBase {
  method: "password";
  password: string;
}
export interface PublicKeyAuth extends AuthContextBase {
  method: "publickey";
  key: { algo: string; data: Uint8Array };
  signature?: Uint8Array;
  blob?: Uint8Array;
  hashAlgo?: string;
}
export interface KeyboardAuth extends AuthContextBase {
  method: "keyboard-interactive";
  prompt(
    prompts: { prompt: string; echo: boolean }[],
    title: string,
    instructions: string,
    cb: (answers: string[]) => void,
  ): void;
}
export type AuthContext = AuthContextBase | PasswordAuth | PublicKeyAuth | KeyboardAuth;

export interface TcpipInfo {
  destIP: string;
  destPort: number;
  srcIP: string;
  srcPort: number;
}

/** A connection accepted by the ssh2 Server (IncomingClient). */
export interface IncomingConnection {
  authenticated: boolean;
  on(ev: "authentication", fn: (ctx: AuthContext) => void): this;
  on(ev: "ready" | "close" | "end", fn: () => void): this;
  on(ev: "error", fn: (e: Error & { level?: string }) => void): this;
  on(ev: "session", fn: (accept: Accept<ServerSession>, reject: Reject) => void): this;
  on(ev: "tcpip", fn: (accept: Accept<ServerChannel>, reject: Reject, info: TcpipInfo) => void): this;
  on(
    ev: "request",
    fn: (
      accept: ((port?: number) => void) | undefined,
      reject: Reject | undefined,
      name: string,
      info: { bindAddr: string; bindPort: number },
    ) => void,
  ): this;
  on(ev: "openssh.streamlocal", fn: (accept: Accept, reject: Reject) => void): this;
  /** a key exchange completed (the first one ends the connection's key-exchange phase) */
  once(ev: "handshake", fn: () => void): this;
  forwardOut(
    boundAddr: string,
    boundPort: number,
    remoteAddr: string,
    remotePort: number,
    cb: (err: Error | undefined, ch: ServerChannel) => void,
  ): void;
  end(): void;
}

export interface SshServer {
  on(ev: "connection", fn: (conn: IncomingConnection, info: { ip: string; port: number }) => void): this;
  injectSocket(sock: Socket): void;
}

export function createServer(hostKeys: (string | Uint8Array)[], cfg: Record<string, unknown>): SshServer {
  return new lib.Server({ hostKeys, ...cfg });
}

export type BackendAuth =
  | { type: "publickey"; username: string; key: string | Uint8Array }
  | { type: "agent"; username: string; agent: unknown }
  | { type: "password"; username: string; password: string }
  | {
    type: "keyboard-interactive";
    username: string;
    prompt: (
      name: string,
      instructions: string,
      lang: string,
      prompts: { prompt: string; echo: boolean }[],
      finish: (answers: string[]) => void,
    ) => void;
  };

/** ssh2 Client to the backend. */
export interface BackendClient {
  on(ev: "ready" | "close" | "end", fn: () => void): this;
  on(ev: "error", fn: (e: Error & { level?: string }) => void): this;
  on(
    ev: "tcp connection",
    fn: (info: TcpipInfo, accept: Accept<ClientChannel>, reject: Reject) => void,
  ): this;
  connect(cfg: Record<string, unknown>): void;
  exec(
    cmd: string,
    opts: Record<string, unknown>,
    cb: (err: Error | undefined, ch: ClientChannel) => void,
  ): void;
  shell(
    pty: Record<string, unknown> | false,
    opts: Record<string, unknown>,
    cb: (err: Error | undefined, ch: ClientChannel) => void,
  ): void;
  subsys(name: string, cb: (err: Error | undefined, ch: ClientChannel) => void): void;
  forwardOut(
    srcIP: string,
    srcPort: number,
    dstIP: string,
    dstPort: number,
    cb: (err: Error | undefined, ch: ClientChannel) => void,
  ): void;
  forwardIn(addr: string, port: number, cb: (err: Error | undefined, realPort: number) => void): void;
  unforwardIn(addr: string, port: number, cb: (err: Error | undefined) => void): void;
  end(): void;
  destroy(): void;
}

export function newBackendClient(): BackendClient {
  return new lib.Client();
}

export const OpenSSHAgent: new (path: string) => {
  getStream(cb: (err: Error | null, stream?: Duplex) => void): void;
} = lib.OpenSSHAgent;
