// Light SSH clients for the 10,000-idle-sessions bench (bench_idle.ts): one process holds many npm:ssh2
// connections to the proxy, each from its own source address, authenticated by a real key, holding a PTY and a
// shell channel on the backend (it waits for the backend's "R" through the proxy, then stays idle).
// Reports JSON lines on stdout; "check" on stdin reports how many are still open, "stop" ends them all.
//   IDLE_CLIENT='{"port":2222,"key":"/path","user":"login@b","binds":["127.1.0.1", ...],"parallel":8}'
import net from "node:net";
import ssh2 from "ssh2";

const spec = JSON.parse(Deno.env.get("IDLE_CLIENT")!) as {
  port: number;
  key: string;
  user: string;
  binds: string[];
  parallel: number;
};
const privateKey = await Deno.readTextFile(spec.key);
const say = (o: unknown) => console.log(JSON.stringify(o));
let open = 0;
let lost = 0;
const lostWhy = new Map<string, number>();
let stopping = false;
// deno-lint-ignore no-explicit-any
const clients: any[] = [];

function connect(bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // deno-lint-ignore no-explicit-any
    const client = new (ssh2 as any).Client();
    let ready = false;
    const timer = setTimeout(() => reject(new Error("setup timed out after 120 s")), 120_000);
    const gone = (why: string) => {
      if (!ready) return reject(new Error(why));
      if (stopping) return;
      ready = false;
      open--;
      lost++;
      lostWhy.set(why, (lostWhy.get(why) ?? 0) + 1);
    };
    client.on("error", (e: Error) => gone(`error: ${e.message}`));
    client.on("close", () => gone("connection closed"));
    client.on("ready", () =>
      // deno-lint-ignore no-explicit-any
      client.shell({ term: "xterm", rows: 24, cols: 80 }, (err: Error | undefined, ch: any) => {
        if (err) return reject(err);
        let seen = "";
        const onData = (d: Uint8Array) => {
          seen += new TextDecoder().decode(d);
          if (!seen.includes("R")) return;
          ch.off("data", onData);
          ch.on("data", () => {});
          clearTimeout(timer);
          ready = true;
          open++;
          clients.push(client);
          resolve();
        };
        ch.on("data", onData);
        ch.on("close", () => gone("channel closed"));
      }));
    const sock = net.connect({ host: "127.0.0.1", port: spec.port, localAddress: bind });
    sock.setNoDelay(true);
    sock.on("error", (e) => gone(`socket: ${e.message}`));
    sock.on(
      "connect",
      () =>
        client.connect({
          sock,
          username: spec.user,
          privateKey,
          readyTimeout: 120_000,
          keepaliveInterval: 0,
        }),
    );
  });
}

const t0 = performance.now();
let next = 0;
let failed = 0;
const errors = new Map<string, number>();
await Promise.all(Array.from({ length: spec.parallel }, async () => {
  while (next < spec.binds.length) {
    const bind = spec.binds[next++];
    try {
      await connect(bind);
    } catch (e) {
      failed++;
      const m = (e as Error).message.slice(0, 120);
      errors.set(m, (errors.get(m) ?? 0) + 1);
    }
  }
}));
say({
  ramped: true,
  open,
  failed,
  errors: Object.fromEntries(errors),
  rampS: (performance.now() - t0) / 1000,
});

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buf = "";
for await (const chunk of lines) {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const cmd = buf.slice(0, i).trim();
    buf = buf.slice(i + 1);
    if (cmd === "check") say({ open, lost, lostWhy: Object.fromEntries(lostWhy) });
    if (cmd === "stop") {
      stopping = true;
      for (const c of clients) c.end();
      await new Promise((r) => setTimeout(r, 2000));
      say({ stopped: true });
      Deno.exit(0);
    }
  }
}
