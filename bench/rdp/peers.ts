// Synthetic RDP peers for the benchmark: a backend and a client that replay a captured xfreerdp session
// (tests/fixtures/rdp) frame by frame over real TLS, then exchange traffic. The proxy cannot tell them
// from real peers (it parses and rewrites every frame), while the bench measures without xfreerdp noise.
import net from "node:net";
import tls from "node:tls";
import { loadCapture } from "../../proxy/rdp/capture_fixtures.ts";
import {
  encodeConnectionConfirm,
  encodeConnectionRequest,
  type Frame,
  PduStream,
  PROTOCOL_SSL,
} from "../../proxy/rdp/pdu/mod.ts";

export interface Script {
  frames: { side: "client" | "server"; bytes: Uint8Array }[];
  /** A captured fast-path bitmap update (server → client), ~8 KB. */
  bitmap: Uint8Array;
  /** A captured fast-path input PDU (client → server). */
  input: Uint8Array;
}

/** A fast-path pointer-position update: the backend's answer to each input in the latency test. */
export const POINTER_POSITION = Uint8Array.of(0x00, 9, 0x08, 4, 0, 10, 0, 20, 0);

export async function loadScript(): Promise<Script> {
  const all = await loadCapture("shadow_session");
  const firstFastPath = all.findIndex((f) => f.kind === "fastpath");
  const frames = all.slice(0, firstFastPath);
  const bitmap =
    all.find((f) => f.side === "server" && f.kind === "fastpath" && f.bytes.length > 4000)!.bytes;
  const input = all.find((f) => f.side === "client" && f.kind === "fastpath")!.bytes;
  return { frames, bitmap, input };
}

/** Frame-by-frame reader over a socket. */
export class FrameReader {
  #stream = new PduStream();
  #queue: Frame[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;
  constructor(readonly socket: net.Socket | tls.TLSSocket) {
    socket.on("data", (c: Uint8Array) => {
      for (const f of this.#stream.push(c)) this.#queue.push(f);
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
  }
  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }
  async next(): Promise<Frame> {
    while (this.#queue.length === 0) {
      if (this.#closed) throw new Error("connection closed");
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.#queue.shift()!;
  }
  /** Bytes of every frame received so far (and drop them). */
  drain(): number {
    let n = 0;
    for (const f of this.#queue.splice(0)) n += f.bytes.length;
    return n;
  }
  onFrame(fn: (f: Frame) => void): void {
    for (const f of this.#queue.splice(0)) fn(f);
    this.socket.removeAllListeners("data");
    this.socket.on("data", (c: Uint8Array) => {
      for (const f of this.#stream.push(c)) fn(f);
    });
  }
}

/** Play one side of the script: send our frames, wait for each of the peer's (the proxy may rewrite them). */
async function play(script: Script, side: "client" | "server", sock: tls.TLSSocket, reader: FrameReader) {
  for (const f of script.frames) {
    if (f.side === side) sock.write(f.bytes);
    else await reader.next();
  }
}

function readPlain(sock: net.Socket): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    const onData = (c: Uint8Array) => {
      const n = new Uint8Array(buf.length + c.length);
      n.set(buf);
      n.set(c, buf.length);
      buf = n;
      if (buf.length >= 4 && buf.length >= ((buf[2] << 8) | buf[3])) {
        sock.off("data", onData);
        sock.pause();
        resolve(buf);
      }
    };
    sock.on("data", onData);
    sock.once("close", () => reject(new Error("closed before X.224")));
  });
}

export interface BackendConn {
  socket: tls.TLSSocket;
  reader: FrameReader;
}

/** A backend that plays the server side of the script for every connection, then calls `serve`. */
export async function startBackend(
  script: Script,
  material: { cert: string; key: string },
  serve: (c: BackendConn) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer(async (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.setNoDelay(true);
    try {
      await readPlain(s);
      s.write(encodeConnectionConfirm({
        dstRef: 0,
        srcRef: 0x1234,
        classOptions: 0,
        negotiation: { type: "response", flags: 0, selectedProtocol: PROTOCOL_SSL },
      }));
      const t = new tls.TLSSocket(s, { isServer: true, ...material });
      t.on("error", () => {});
      await new Promise((r) => t.once("secure", r));
      t.setNoDelay?.(true);
      const reader = new FrameReader(t);
      await play(script, "server", t, reader);
      serve({ socket: t, reader });
    } catch (_e) {
      s.destroy();
    }
  });
  await new Promise<void>((r) => srv.listen({ host: "127.0.0.1", port: 0 }, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

export interface ClientConn {
  socket: tls.TLSSocket;
  reader: FrameReader;
  /** Connect to activation (X.224 + TLS + the scripted handshake), in ms. */
  setupMs: number;
}

/** Connect as a client, play the client side of the script. */
export async function connectClient(
  script: Script,
  host: string,
  port: number,
  localAddress?: string,
): Promise<ClientConn> {
  const t0 = performance.now();
  const s = await new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host, port, localAddress }, () => resolve(c));
    c.once("error", reject);
  });
  s.setNoDelay(true);
  s.on("error", () => {});
  s.write(encodeConnectionRequest({
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    tokenLine: new TextEncoder().encode("Cookie: mstshash=bench"),
    cookie: "bench",
    routingToken: null,
    negReq: { flags: 0, requestedProtocols: 0x3 },
    correlationInfo: null,
  }));
  await readPlain(s);
  const t = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const c = tls.connect({ socket: s, rejectUnauthorized: false }, () => resolve(c));
    c.once("error", reject);
  });
  t.setNoDelay?.(true);
  t.on("error", () => {});
  const reader = new FrameReader(t);
  await play(script, "client", t, reader);
  return { socket: t, reader, setupMs: performance.now() - t0 };
}
