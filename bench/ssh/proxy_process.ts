// The SSH proxy alone in its own process, for the benchmark (so its CPU time and memory can be measured
// apart from the driver). Configured by environment:
//   BENCH_DB_URL, BENCH_LISTEN (host:port), BENCH_DATA (host key, backend_keys/), BENCH_RECORDINGS,
//   BENCH_RECORDING_ENCRYPTION=age (recordings encrypted at rest to the appliance's identity under BENCH_DATA)
import { connect } from "../../db/client.ts";
import { createSshProxy, loadOrCreateHostKeys, systemClock } from "../../proxy/ssh/mod.ts";
import { backendKeyLoader } from "../../keys/backend_keys.ts";
import { UtmpWriter } from "../../recorder/utmp.ts";
import { recordingEncryption } from "../../core/recording_identity.ts";

const env = (k: string) => {
  const v = Deno.env.get(k);
  if (!v) throw new Error(`missing ${k}`);
  return v;
};
const [host, port] = env("BENCH_LISTEN").split(":");
const data = env("BENCH_DATA");
const sql = connect({ url: env("BENCH_DB_URL") }, { max: 10, appName: "jumphost-bench-ssh" });
const say = (level: string) => (msg: string, f?: Record<string, unknown>) =>
  console.error(JSON.stringify({ level, msg, ...f }));
const proxy = await createSshProxy({
  sql,
  nodeId: "bench",
  hostKeys: await loadOrCreateHostKeys(data),
  recordingsDir: env("BENCH_RECORDINGS"),
  clock: systemClock,
  log: { debug: () => {}, info: say("info"), warn: say("warn"), error: say("error") },
  utmp: new UtmpWriter(null, `${data}/wtmp`),
  applianceKeyFor: backendKeyLoader(data),
  ...(Deno.env.get("BENCH_KEEPALIVE_MS") ? { keepaliveMs: Number(Deno.env.get("BENCH_KEEPALIVE_MS")) } : {}),
  recordingEncryption: Deno.env.get("BENCH_RECORDING_ENCRYPTION") === "age"
    ? await recordingEncryption({ recordingEncryption: "age", recordingRecipients: [] }, data)
    : null,
});
await proxy.listen([{ host, port: Number(port) }]);
console.log("READY");
const stop = async () => {
  await proxy.close("shutdown");
  await sql.end({ timeout: 5 });
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", () => void stop());
Deno.addSignalListener("SIGINT", () => void stop());
