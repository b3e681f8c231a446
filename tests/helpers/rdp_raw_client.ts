// A minimal hand-driven RDP client for tests of what xfreerdp never sends: raw X.224 requests and
// hostile PDUs after TLS.
import net from "node:net";
import tls from "node:tls";
import { encodeConnectionRequest, parseConnectionConfirm } from "../../proxy/rdp/pdu/mod.ts";

export function connectionRequest(requestedProtocols: number | null, cookie = "alice"): Uint8Array {
  return encodeConnectionRequest({
    dstRef: 0,
    srcRef: 0,
    classOptions: 0,
    tokenLine: new TextEncoder().encode(`Cookie: mstshash=${cookie}`),
    cookie,
    routingToken: null,
    negReq: requestedProtocols === null ? null : { flags: 0, requestedProtocols },
    correlationInfo: null,
  });
}

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Uint8Array;
  /** Resolves when the peer closed (true) or after ms (false). */
  closed(ms: number): Promise<boolean>;
  write(b: Uint8Array): void;
  destroy(): void;
}

function wrap(socket: net.Socket | tls.TLSSocket): RawConnection {
  let buf = new Uint8Array(0);
  let isClosed = false;
  const waiters = new Set<() => void>();
  socket.on("data", (c: Uint8Array) => {
    const n = new Uint8Array(buf.length + c.length);
    n.set(buf);
    n.set(c, buf.length);
    buf = n;
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    isClosed = true;
    for (const w of waiters) w();
  });
  return {
    socket,
    received: () => buf,
    closed(ms) {
      if (isClosed) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (v: boolean) => {
          clearTimeout(t);
          waiters.delete(w);
          resolve(v);
        };
        const w = () => done(true);
        const t = setTimeout(() => done(false), ms);
        waiters.add(w);
      });
    },
    write: (b) => void socket.write(b),
    destroy: () => socket.destroy(),
  };
}

export function rawConnect(host: string, port: number, localAddress?: string): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress }, () => {
      s.off("error", reject);
      resolve(wrap(s));
    });
    s.once("error", reject);
  });
}

/** Read one whole TPKT (the proxy's Connection Confirm). */
export async function readTpkt(c: RawConnection, ms: number): Promise<Uint8Array> {
  const end = Date.now() + ms;
  for (;;) {
    const b = c.received();
    if (b.length >= 4 && b.length >= ((b[2] << 8) | b[3])) return b.slice(0, (b[2] << 8) | b[3]);
    if (Date.now() > end) throw new Error(`no TPKT within ${ms} ms (have ${b.length} bytes)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connection Request for TLS, Confirm, then a TLS handshake: a connection ready for hostile PDUs. */
export async function rawTlsSession(host: string, port: number, ms = 10_000): Promise<RawConnection> {
  const plain = await rawConnect(host, port);
  plain.write(connectionRequest(0x1));
  const cc = parseConnectionConfirm(await readTpkt(plain, ms));
  if (cc.negotiation?.type !== "response") {
    plain.destroy();
    throw new Error(`the proxy refused TLS: ${JSON.stringify(cc.negotiation)}`);
  }
  plain.socket.removeAllListeners("data");
  return await new Promise((resolve, reject) => {
    const t = tls.connect({ socket: plain.socket, rejectUnauthorized: false }, () => {
      clearTimeout(timer);
      t.off("error", fail);
      resolve(wrap(t));
    });
    const fail = (e: Error) => {
      clearTimeout(timer);
      t.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${ms} ms`)), ms);
    t.once("error", fail);
    t.once("close", () => fail(new Error("closed during the TLS handshake")));
  });
}
