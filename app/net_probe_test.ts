import assert from "node:assert/strict";
import { isJumphostServe, listeningInodes, NetProbeError, parseIpAddrJson } from "./net_probe.ts";

Deno.test("parseIpAddrJson() flattens `ip -j addr` and skips malformed entries", () => {
  const text = JSON.stringify([
    {
      ifname: "lo",
      addr_info: [
        { family: "inet", local: "127.0.0.1", prefixlen: 8 },
        { family: "inet6", local: "::1", prefixlen: 128 },
      ],
    },
    { ifname: "eth0", addr_info: [{ family: "inet", local: "10.0.0.2", prefixlen: 24 }, { family: "inet" }] },
    { ifname: "weird" },
    null,
  ]);
  assert.deepEqual(parseIpAddrJson(text), [
    { ifname: "lo", family: "inet", local: "127.0.0.1", prefixlen: 8 },
    { ifname: "lo", family: "inet6", local: "::1", prefixlen: 128 },
    { ifname: "eth0", family: "inet", local: "10.0.0.2", prefixlen: 24 },
  ]);
  assert.throws(() => parseIpAddrJson("not json"), NetProbeError);
  assert.throws(() => parseIpAddrJson("{}"), NetProbeError);
});

Deno.test("listeningInodes() finds LISTEN sockets on a port in /proc/net/tcp", () => {
  const text = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0",
    "   1: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0",
    "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0",
    "garbage",
  ].join("\n");
  assert.deepEqual(listeningInodes(text, 22), ["1111"]); // the ESTABLISHED one (st 01) is not a listener
  assert.deepEqual(listeningInodes(text, 8080), ["3333"]);
  assert.deepEqual(listeningInodes(text, 443), []);
});

Deno.test("isJumphostServe() recognises the binary, the launcher's deno command line, and nothing else", () => {
  assert.equal(isJumphostServe(["/usr/local/bin/jumphost", "serve"]), true);
  assert.equal(
    isJumphostServe(["/usr/bin/deno", "run", "-A", "/opt/jumphost/main.ts", "serve", "--x"]),
    true,
  );
  assert.equal(isJumphostServe(["/usr/sbin/sshd", "-D"]), false);
  assert.equal(isJumphostServe(["/usr/local/bin/jumphost", "doctor"]), false);
  assert.equal(isJumphostServe(["python3", "-m", "http.server", "serve"]), false);
});
