// Port forwarding, relayed so the backend does the networking exactly as with a direct ssh:
//  -L / -D: the client's direct-tcpip channel becomes a direct-tcpip channel from the backend;
//  -R: tcpip-forward makes the backend listen; its forwarded-tcpip channels are opened back to the client.
// Every request is re-decided (the policy's port_forwarding flag); refusals are audited. When a policy
// change takes the flag away, the open forwarded channels and the backend's -R listeners are closed.
import type { Duplex } from "node:stream";
import { forwardEvent, forwardWithdrawnEvent } from "./events.ts";
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

/** Pipes two channels both ways; each side's end ends the other. Returns what closes both. */
function splice(a: Duplex, b: Duplex, onClosed: () => void): () => void {
  a.pipe(b);
  b.pipe(a);
  let closed = false;
  const closeBoth = () => {
    a.destroy();
    b.destroy();
    if (!closed) {
      closed = true;
      onClosed();
    }
  };
  a.on("close", closeBoth);
  b.on("close", closeBoth);
  a.on("error", closeBoth);
  b.on("error", closeBoth);
  return closeBoth;
}

export class Forwarding {
  #remote = new Map<string, RemoteForward>();
  /** the forwarded channel pairs now open (-L/-D and -R), each with what closes it */
  #open = new Set<() => void>();

  constructor(private readonly s: ProxySession, private readonly conn: IncomingConnection) {}

  #audit(kind: "direct" | "remote", host: string, port: number, allowed: boolean, why?: string): void {
    // one audit row per distinct destination and verdict, repeats counted in the metadata; once the
    // metadata's list is full every forward is audited on its own row (never silently)
    const note = this.s.meta.forward(kind, host, port, allowed);
    if (note === "repeat") return;
    void this.s.rt.audit(forwardEvent(this.s.facts, {
      server: this.s.server,
      sessionId: this.s.id,
      kind,
      host,
      port,
      allowed,
      why,
      unlisted: note === "unlisted",
    }));
  }

  #splice(a: Duplex, b: Duplex): void {
    const close = splice(a, b, () => this.#open.delete(close));
    this.#open.add(close);
  }

  /** The number of forwarded channels open now. */
  get openChannels(): number {
    return this.#open.size;
  }

  /**
   * The policy no longer allows forwarding: closes every forwarded channel and cancels the backend's
   * listeners (their connections would be refused anyway), and audits what was closed.
   */
  withdraw(why: string): void {
    const channels = this.#open.size;
    for (const close of [...this.#open]) close();
    this.#open.clear();
    const listeners = [...this.#remote.values()];
    this.#remote.clear();
    for (const f of listeners) {
      try {
        this.s.backend?.client.unforwardIn(f.bindAddr, f.requested, () => {});
      } catch (_e) {
        // the backend connection is already gone, and its listeners with it
      }
    }
    if (channels === 0 && listeners.length === 0) return;
    this.s.meta.note(`port forwarding withdrawn: ${channels} channels, ${listeners.length} listeners closed`);
    void this.s.rt.audit(forwardWithdrawnEvent(this.s.facts, {
      server: this.s.server,
      sessionId: this.s.id,
      channels,
      listeners: listeners.length,
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
        // the flag may have been withdrawn while the backend opened the channel
        if (!s.forwardingAllowed()) {
          bch.close();
          this.#audit("direct", info.destIP, info.destPort, false, "port forwarding no longer allowed");
          return reject();
        }
        const ch = accept();
        if (!ch) return bch.close();
        this.#audit("direct", info.destIP, info.destPort, true);
        this.#splice(ch, bch);
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
        if (!s.forwardingAllowed()) {
          backend.client.unforwardIn(info.bindAddr, info.bindPort, () => {});
          this.#audit("remote", info.bindAddr, port, false, "port forwarding no longer allowed");
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
        this.#splice(ch, bch);
      });
    });
  }
}
