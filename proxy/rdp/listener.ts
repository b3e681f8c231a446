// TCP listeners of the RDP proxy: the configured addresses, plus one per server that has a dedicated
// RDP listen port (opened and closed as servers change).
import { capConnections } from "../../core/fd_budget.ts";
import net from "node:net";
import type { ListenAddress } from "../../core/config.ts";

export class Listeners {
  #servers = new Map<string, net.Server>();
  #dedicated = new Set<number>();

  constructor(
    private readonly onConnection: (sock: net.Socket) => void,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
  ) {}

  /** Bind one address; resolves with the port actually bound (port 0 picks a free one). */
  bind(addr: ListenAddress): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => this.onConnection(sock));
      // past the descriptor budget the excess is closed at once, the listener keeps accepting (fd_budget.ts)
      capConnections(server);
      const onError = (e: Error) =>
        reject(new Error(`cannot listen on ${addr.host}:${addr.port}: ${e.message}`));
      server.once("error", onError);
      server.listen({ host: addr.host, port: addr.port }, () => {
        server.off("error", onError);
        server.on("error", (e: Error) => this.log("RDP listener error", { error: e.message }));
        const a = server.address() as net.AddressInfo;
        const bound = { host: addr.host, port: a.port };
        this.#servers.set(key(bound), server);
        resolve(bound);
      });
    });
  }

  /** Make the dedicated per-server ports bound on `hosts` exactly `ports`. */
  async syncDedicated(hosts: string[], ports: Set<number>): Promise<void> {
    for (const port of [...this.#dedicated]) {
      if (ports.has(port)) continue;
      this.#dedicated.delete(port);
      for (const host of hosts) await this.#close(key({ host, port }));
    }
    for (const port of ports) {
      if (this.#dedicated.has(port)) continue;
      this.#dedicated.add(port);
      for (const host of hosts) {
        if (this.#servers.has(key({ host, port }))) continue;
        await this.bind({ host, port }).then(
          () => this.log("RDP dedicated port listening", { host, port }),
          (e) => this.log("cannot bind a dedicated RDP port", { host, port, error: (e as Error).message }),
        );
      }
    }
  }

  get dedicatedPorts(): number[] {
    return [...this.#dedicated].sort((a, b) => a - b);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#servers.keys()].map((k) => this.#close(k)));
  }

  #close(k: string): Promise<void> {
    const s = this.#servers.get(k);
    if (!s) return Promise.resolve();
    this.#servers.delete(k);
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

function key(a: ListenAddress): string {
  return `${a.host}|${a.port}`;
}
