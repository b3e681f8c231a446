// Port forwarding, relayed so the backend does the networking exactly as with a direct ssh:
//  -L / -D: the client's direct-tcpip channel becomes a direct-tcpip channel from the backend;
//  -R: tcpip-forward makes the backend listen; its forwarded-tcpip channels are opened back to the client.
// Every request is re-decided (the policy's port_forwarding flag); refusals are audited.
import type { Duplex } from "node:stream";
import { forwardEvent } from "./events.ts";
import type { ProxySession } from "./session.ts";
import type { IncomingConnection } from "./ssh2_types.ts";
import type { Backend } from "./upstream.ts";

interface RemoteForward {
  bindAddr: string;
  /** the port the client asked for (0 = any) */
  requested: number;
  /** the port the backend listens on */
  port: number;
}

/** Pipes two channels both ways; each side's end ends the other. */
function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const closeBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.on("close", closeBoth);
  b.on("close", closeBoth);
  a.on("error", closeBoth);
  b.on("error", closeBoth);
}

export class Forwarding {
  #remote = new Map<string, RemoteForward>();

  constructor(private readonly s: ProxySession, private readonly conn: IncomingConnection) {}

  #audit(kind: "direct" | "remote", host: string, port: number, allowed: boolean, why?: string): void {
    // one audit row per distinct destination and verdict; repeats are counted in the metadata
    if (!this.s.meta.forward(kind, host, port, allowed)) return;
    void this.s.rt.audit(forwardEvent(this.s.facts, {
      server: this.s.server,
      sessionId: this.s.id,
      kind,
      host,
      port,
      allowed,
      why,
    }));
  }

  attach(): void {
    const { s, conn } = this;
    conn.on("tcpip", async (accept, reject, info) => {
      if (!s.forwardingAllowed()) {
        this.#audit("direct", info.destIP, info.destPort, false, "port forwarding not allowed by policy");
        return reject();
      }
      let backend: Backend;
      try {
        backend = await s.ensureBackend();
      } catch (_e) {
        return reject();
      }
      backend.client.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, bch) => {
        if (err) {
          this.#audit("direct", info.destIP, info.destPort, true, `backend refused: ${err.message}`);
          return reject();
        }
        const ch = accept();
        if (!ch) return bch.close();
        this.#audit("direct", info.destIP, info.destPort, true);
        splice(ch, bch);
      });
    });

    conn.on("request", async (accept, reject, name, info) => {
      if (name !== "tcpip-forward" && name !== "cancel-tcpip-forward") return reject?.();
      if (name === "cancel-tcpip-forward") {
        const key = `${info.bindAddr}:${info.bindPort}`;
        const fwd = [...this.#remote.entries()].find(([, f]) =>
          `${f.bindAddr}:${f.requested}` === key || `${f.bindAddr}:${f.port}` === key
        );
        if (!fwd || !s.backend) return reject?.();
        this.#remote.delete(fwd[0]);
        s.backend.client.unforwardIn(
          fwd[1].bindAddr,
          fwd[1].requested,
          (err) => err ? reject?.() : accept?.(),
        );
        return;
      }
      if (!s.forwardingAllowed()) {
        this.#audit("remote", info.bindAddr, info.bindPort, false, "port forwarding not allowed by policy");
        return reject?.();
      }
      let backend: Backend;
      try {
        backend = await s.ensureBackend();
      } catch (_e) {
        return reject?.();
      }
      backend.client.forwardIn(info.bindAddr, info.bindPort, (err, port) => {
        if (err) {
          this.#audit("remote", info.bindAddr, info.bindPort, true, `backend refused: ${err.message}`);
          return reject?.();
        }
        this.#remote.set(`${info.bindAddr}:${port}`, {
          bindAddr: info.bindAddr,
          requested: info.bindPort,
          port,
        });
        this.#audit("remote", info.bindAddr, port, true);
        accept?.(port);
      });
    });
  }

  /** Connections arriving at a backend listener (-R) go back to the client. */
  attachBackend(backend: Backend): void {
    backend.client.on("tcp connection", (info, accept, reject) => {
      const fwd = this.#remote.get(`${info.destIP}:${info.destPort}`) ??
        [...this.#remote.values()].find((f) => f.port === info.destPort);
      if (!fwd || !this.s.forwardingAllowed()) {
        if (fwd) this.#audit("remote", fwd.bindAddr, fwd.port, false, "port forwarding no longer allowed");
        return reject();
      }
      // the client knows the forward by the address it asked for and the port it was told
      this.conn.forwardOut(fwd.bindAddr, fwd.port, info.srcIP, info.srcPort, (err, ch) => {
        if (err) return reject();
        const bch = accept();
        splice(ch, bch);
      });
    });
  }
}
