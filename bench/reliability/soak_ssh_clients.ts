// Light SSH clients for the sustained-load run (soak.ts): one process holds many npm:ssh2 connections, each
// authenticated by a real key and running a real exec loop on the backend through the proxy
// (a perl loop printing a line a second, forever). Spawned by soak.ts; talks JSON lines on stdout, listens for "stop" on stdin.
//   SOAK_CLIENT='{"port":2222,"key":"/path","user":"login@web1","binds":["127.0.8.1"],"count":250}'
import net from "node:net";
import ssh2 from "ssh2";

interface Spec {
  port: number;
  key: string;
  user: string;
  binds: string[];
  count: number;
  /** connections in setup at once */
  parallel: number;
}

const spec: Spec = JSON.parse(Deno.env.get("SOAK_CLIENT")!);
const privateKey = await Deno.readTextFile(spec.key);
// one long-lived process per session on the backend (a shell loop would fork `sleep` every second: 1,000
// forks a second would measure the backend, not the proxy)
const LOOP = `exec perl -e '$|=1; for ($i = 1;; $i++) { print "t$i\\n"; sleep 1 }'`;
const say = (o: unknown) => console.log(JSON.stringify(o));

interface Session {
  // deno-lint-ignore no-explicit-any
  client: any;
  lastData: number;
  /** the longest silence since the load phase began, ms */
  maxGap: number;
  lines: number;
  ended: string | null;
}

const sessions: Session[] = [];
let stopping = false;
let loadFrom = 0;

function open(bind: string): Promise<Session> {
  return new Promise((resolve, reject) => {
    // deno-lint-ignore no-explicit-any
    const client = new (ssh2 as any).Client();
    const s: Session = { client, lastData: 0, maxGap: 0, lines: 0, ended: null };
    const fail = (why: string) => {
      if (s.ended === null && !stopping) s.ended = why;
    };
    const timer = setTimeout(() => reject(new Error("setup timed out after 60 s")), 60_000);
    client.on("error", (e: Error) => {
      fail(`error: ${e.message}`);
      clearTimeout(timer);
      reject(e);
    });
    client.on("close", () => fail("connection closed"));
    client.on("ready", () =>
      client.exec(LOOP, (err: Error | undefined, ch: net.Socket) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        ch.on("data", (d: Uint8Array) => {
          const now = Date.now();
          if (loadFrom && s.lastData) s.maxGap = Math.max(s.maxGap, now - Math.max(s.lastData, loadFrom));
          s.lastData = now;
          for (const b of d) if (b === 10) s.lines++;
          if (s.lines === 1) {
            clearTimeout(timer);
            resolve(s);
          }
        });
        ch.on("close", () => fail("channel closed"));
      }));
    const sock = net.connect({ host: "127.0.0.1", port: spec.port, localAddress: bind });
    sock.setNoDelay(true);
    sock.on("error", (e) => fail(`socket: ${e.message}`));
    sock.on("connect", () => client.connect({ sock, username: spec.user, privateKey, readyTimeout: 60_000 }));
  });
}

const t0 = Date.now();
let failed = 0;
const errors: string[] = [];
let next = 0;
async function worker() {
  while (next < spec.count) {
    const i = next++;
    try {
      sessions.push(await open(spec.binds[i % spec.binds.length]));
    } catch (e) {
      failed++;
      if (errors.length < 5) errors.push(String((e as Error).message ?? e));
    }
  }
}
await Promise.all(Array.from({ length: spec.parallel }, worker));
say({ ready: sessions.length, failed, errors, rampMs: Date.now() - t0 });

// the parent says "load" when every client process is up, then "stop" at the end
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buf = "";
for await (const chunk of lines) {
  buf += chunk;
  if (buf.includes("load\n") && !loadFrom) loadFrom = Date.now();
  if (buf.includes("stop\n")) break;
}
const now = Date.now();
const dropped = sessions.filter((s) => s.ended !== null);
const silent = sessions.filter((s) => s.ended === null && now - s.lastData > 5_000);
for (const s of sessions) {
  if (s.ended === null) s.maxGap = Math.max(s.maxGap, now - s.lastData);
}
say({
  result: {
    sessions: sessions.length,
    dropped: dropped.length,
    dropReasons: [...new Set(dropped.map((s) => s.ended))].slice(0, 5),
    silent: silent.length,
    maxGapMs: Math.max(0, ...sessions.map((s) => s.maxGap)),
    lines: sessions.reduce((a, s) => a + s.lines, 0),
  },
});
stopping = true;
for (const s of sessions) s.client.end();
setTimeout(() => Deno.exit(0), 2000);
