// A light SSH backend for the 10,000-idle-sessions bench (bench_idle.ts): one npm:ssh2 server holding many
// sessions, because 10,000 OpenSSH sessions (a monitor, a network child and a shell each) do not fit in this
// machine's memory. It is a real SSH server all the same: the proxy's key exchange, host-key pinning and
// publickey login with the appliance key (signature verified) run as against sshd, and each session gets a PTY
// and a shell channel that prints "R" and then stays open.
//   IDLE_BACKEND='{"port":2200,"hostKey":"/path/host","authorized":"/path/appliance.pub"}'
import ssh2 from "ssh2";

const spec = JSON.parse(Deno.env.get("IDLE_BACKEND")!) as {
  port: number;
  hostKey: string;
  authorized: string;
};
// deno-lint-ignore no-explicit-any
const { Server, utils } = ssh2 as any;
// like sshd's default (ClientAliveInterval 0): the backend sends no keepalives of its own (ssh2's server would
// every 15 s, and the proxy's replies would be counted as its idle cost)
Server.KEEPALIVE_CLIENT_INTERVAL = 0;
const allowed = utils.parseKey(await Deno.readTextFile(spec.authorized));
const allowedBlob: Uint8Array = allowed.getPublicSSH();
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
let open = 0;

// deno-lint-ignore no-explicit-any
const server = new Server({ hostKeys: [await Deno.readTextFile(spec.hostKey)] }, (conn: any) => {
  conn._sock?.setNoDelay?.(true);
  // deno-lint-ignore no-explicit-any
  conn.on("authentication", (ctx: any) => {
    if (ctx.method !== "publickey" || !same(ctx.key.data, allowedBlob)) return ctx.reject(["publickey"]);
    if (!ctx.signature) return ctx.accept(); // the key query before the signed request
    if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
    ctx.reject(["publickey"]);
  });
  conn.on("error", () => {});
  conn.on("ready", () => {
    open++;
    conn.on("close", () => open--);
    // deno-lint-ignore no-explicit-any
    conn.on("session", (accept: () => any) => {
      const session = accept();
      // deno-lint-ignore no-explicit-any
      session.on("pty", (ok: any) => ok?.());
      // deno-lint-ignore no-explicit-any
      session.on("env", (ok: any) => ok?.());
      // deno-lint-ignore no-explicit-any
      session.on("window-change", (ok: any) => ok?.());
      // deno-lint-ignore no-explicit-any
      session.on("shell", (ok: () => any) => {
        const ch = ok();
        ch.write("R\r\n$ ");
        ch.on("data", (d: Uint8Array) => ch.write(d)); // a terminal's echo
        ch.on("error", () => {});
      });
    });
  });
});
server.on("connection", () => {});
server.listen(spec.port, "127.0.0.1", () => console.log("READY"));
setInterval(() => console.error(JSON.stringify({ backend: Deno.pid, open })), 10_000).unref?.();
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
