// Sends formatted syslog messages: unix datagram (/dev/log), UDP (RFC 5426) or TCP with octet counting
// (RFC 6587). A send either succeeds or throws SyslogError; the caller (the audit forwarder) keeps the
// event and retries, so nothing is queued here.
import dgram from "node:dgram";
import { frameOctetCounted, SyslogError, type SyslogTarget } from "./syslog.ts";

export interface SyslogSender {
  readonly target: SyslogTarget;
  send(message: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

type UnixAddr = { transport: "unixpacket"; path: string };
/** the part of the unstable Deno.listenDatagram API used here (typed locally: deno.unstable is not in lib) */
type ListenUnixDatagram = (o: UnixAddr) => {
  send(p: Uint8Array, to: UnixAddr): Promise<number>;
  close(): void;
};
type NetTarget = { transport: "udp" | "tcp"; host: string; port: number };

function describe(t: SyslogTarget): string {
  return t.transport === "unix" ? `unix://${t.path}` : `${t.transport}://${t.host}:${t.port}`;
}

/** Unix datagram socket: needs a bound local path of its own (in a private temp dir). */
async function unixSender(t: Extract<SyslogTarget, { transport: "unix" }>): Promise<SyslogSender> {
  // Deno.listenDatagram is available with --unstable-net (deno.json "unstable": ["net"])
  const listen = (Deno as unknown as { listenDatagram?: ListenUnixDatagram }).listenDatagram;
  if (typeof listen !== "function") {
    throw new SyslogError("send", "syslog over a unix socket needs Deno's --unstable-net (see deno.json)");
  }
  const dir = await Deno.makeTempDir({ prefix: "jumphost-syslog-" });
  const conn = listen({ transport: "unixpacket", path: `${dir}/s` });
  return {
    target: t,
    async send(message) {
      try {
        await conn.send(message, { transport: "unixpacket", path: t.path });
      } catch (e) {
        throw new SyslogError("send", `syslog ${describe(t)}: ${(e as Error).message}`);
      }
    },
    async close() {
      conn.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function udpSender(t: NetTarget): SyslogSender {
  const socket = dgram.createSocket(t.host.includes(":") ? "udp6" : "udp4");
  // an ICMP "port unreachable" surfaces as an 'error' event; it must not become an uncaught exception
  let lastError: Error | null = null;
  socket.on("error", (e) => (lastError = e));
  return {
    target: t,
    send(message) {
      return new Promise((resolve, reject) => {
        socket.send(message, t.port, t.host, (err) => {
          const e = err ?? lastError;
          lastError = null;
          if (e) reject(new SyslogError("send", `syslog ${describe(t)}: ${e.message}`));
          else resolve();
        });
      });
    },
    close() {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

/** TCP: connects on first use and again after a failure. */
function tcpSender(t: NetTarget, connectTimeoutMs: number): SyslogSender {
  let conn: Deno.TcpConn | null = null;
  const drop = () => {
    try {
      conn?.close();
    } catch (_e) {
      // already closed by the peer
    }
    conn = null;
  };
  return {
    target: t,
    async send(message) {
      try {
        if (!conn) {
          const ac = new AbortController();
          const timer = setTimeout(() => ac.abort(), connectTimeoutMs);
          try {
            conn = await Deno.connect({ hostname: t.host, port: t.port, signal: ac.signal });
          } finally {
            clearTimeout(timer);
          }
        }
        const framed = frameOctetCounted(message);
        for (let off = 0; off < framed.length;) off += await conn.write(framed.subarray(off));
      } catch (e) {
        drop();
        throw new SyslogError("send", `syslog ${describe(t)}: ${(e as Error).message}`);
      }
    },
    close() {
      drop();
      return Promise.resolve();
    },
  };
}

export async function openSyslogSender(t: SyslogTarget, opts: { connectTimeoutMs?: number } = {}) {
  if (t.transport === "unix") return await unixSender(t);
  if (t.transport === "udp") return udpSender(t);
  return tcpSender(t, opts.connectTimeoutMs ?? 5000);
}
