// Why the RDP relay is slower than its peers: Deno's node:tls natively on a TCP socket against node:tls layered
// over a JS Duplex (what proxy/rdp/held_socket.ts does, for backpressure). One process, one TLS server and
// client over loopback, TOTAL bytes in 8 KB writes (an RDP bitmap update's size), server → client.
//   deno run -A bench/rdp/tls_layering.ts
import net from "node:net";
import tls from "node:tls";
import { HeldSocket } from "../../proxy/rdp/held_socket.ts";
import { loadOrCreateCertificate } from "../../proxy/rdp/tls.ts";

const TOTAL = Number(Deno.env.get("TLS_BENCH_MB") ?? 256) * 1024 * 1024;
const dir = await Deno.makeTempDir();
const { cert, key } = await loadOrCreateCertificate({ dataDir: dir });
const chunk = new Uint8Array(8192).fill(7);

async function run(layered: boolean): Promise<{ MiBps: number; cpuMsPerMiB: number }> {
  const srv = net.createServer((raw) => {
    raw.setNoDelay(true);
    const base = layered ? new HeldSocket(raw) as unknown as net.Socket : raw;
    const t = new tls.TLSSocket(base, { isServer: true, cert, key });
    t.on("secure", () => {
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!t.write(chunk)) return void t.once("drain", pump);
        }
        t.end();
      };
      pump();
    });
    t.on("error", () => {});
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  const u0 = process().cpu;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const raw = net.connect(port, "127.0.0.1", () => {
      raw.setNoDelay(true);
      const base = layered ? new HeldSocket(raw) as unknown as net.Socket : raw;
      const c = tls.connect({ socket: base, rejectUnauthorized: false });
      let got = 0;
      c.on("data", (d: Uint8Array) => {
        got += d.length;
        if (got >= TOTAL) {
          c.destroy();
          resolve();
        }
      });
      c.on("error", () => {});
    });
  });
  const s = (performance.now() - t0) / 1000;
  const cpuMs = (process().cpu - u0) * 10;
  srv.close();
  return { MiBps: TOTAL / 1048576 / s, cpuMsPerMiB: cpuMs / (TOTAL / 1048576) };
}

function process() {
  const st = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return { cpu: Number(st[11]) + Number(st[12]) };
}

const out: Record<string, number[]> = { native: [], layered: [] };
const cpu: Record<string, number[]> = { native: [], layered: [] };
for (let rep = 0; rep < 3; rep++) {
  for (const layered of [false, true]) {
    const r = await run(layered);
    const k = layered ? "layered" : "native";
    out[k].push(Math.round(r.MiBps));
    cpu[k].push(Math.round(r.cpuMsPerMiB * 100) / 100);
  }
}
console.log(JSON.stringify({ MiBps: out, cpuMsPerMiB: cpu }));
await Deno.remove(dir, { recursive: true });
