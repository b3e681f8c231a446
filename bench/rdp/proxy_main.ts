// The RDP proxy core as its own process, so the benchmark can measure its RSS and CPU alone.
//   deno run -A bench/rdp/proxy_main.ts <database-url> <listen-port> <data-dir>
import { createLogger } from "../../core/log.ts";
import { connect } from "../../db/client.ts";
import { createRdpProxy } from "../../proxy/rdp/mod.ts";

const [url, port, dir] = Deno.args;
const sql = connect({ url }, { max: 8, appName: "rdp-bench-proxy" });
const proxy = await createRdpProxy({
  sql,
  nodeId: "rdp-bench",
  listen: [{ host: "0.0.0.0", port: Number(port) }],
  dataDir: dir,
  recordingsDir: `${dir}/recordings`,
  log: createLogger("error", "rdp"),
});
console.log("READY");
const stop = async () => {
  await proxy.stop();
  await sql.end({ timeout: 5 });
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", () => void stop());
