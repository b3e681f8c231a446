// The floor of any Deno process in an SSH path, for the keystroke echo bench: a bare TCP relay (node:net, no
// SSH, no decryption, TCP_NODELAY on both legs) in its own process, in front of the backend sshd.
//   deno run -A bench/ssh/tcp_relay.ts <listen-port> <target-port>
import net from "node:net";

const [listen, target] = Deno.args.map(Number);
net.createServer((a) => {
  a.setNoDelay(true);
  const b = net.connect({ host: "127.0.0.1", port: target });
  b.setNoDelay(true);
  a.on("data", (d) => b.write(d));
  b.on("data", (d) => a.write(d));
  const end = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on("error", end);
    s.on("close", end);
  }
}).listen(listen, "127.0.0.1", () => console.log("READY"));
