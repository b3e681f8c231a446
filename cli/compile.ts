// deno task compile: builds the single `jumphost` executable. deno compile needs the `denort` runtime,
// which it normally downloads; on machines without that access set DENORT_BIN to a local denort binary.
import { existsSync } from "node:fs";

const root = new URL("../", import.meta.url);
const output = Deno.args[0] ?? "dist/jumphost";

// modules loaded at run time by URL (workers) and files read through import.meta.url (migrations, assets)
const INCLUDES = [
  "db/migrations",
  "proxy/ssh/ssh_worker.ts",
  "proxy/rdp/rdp_worker.ts",
  "recorder/convert/convert_worker.ts",
  "recorder/convert/ffmpeg_pipe_worker.ts",
  "recorder/rdp_replay/index_worker.ts",
  "web/static",
];
const missing = INCLUDES.filter((p) => !existsSync(new URL(p, root)));
if (missing.length) {
  console.error(`jumphost compile: files to embed are missing: ${missing.join(", ")}`);
  Deno.exit(1);
}

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.error(
    "jumphost compile: DENORT_BIN is not set. deno compile needs the denort runtime for this Deno version " +
      `(${Deno.version.deno}); this machine cannot download it. Set DENORT_BIN=/path/to/denort, or run from the ` +
      "checkout with `deno task start` (install.sh installs a launcher in that case).",
  );
  Deno.exit(1);
}
if (!existsSync(denort)) {
  console.error(`jumphost compile: DENORT_BIN=${denort} does not exist`);
  Deno.exit(1);
}
const args = [
  "compile",
  "-A",
  "--unstable-raw-imports",
  "--unstable-net",
  "--output",
  output,
  ...INCLUDES.flatMap((p) => ["--include", p]),
  "main.ts",
];
console.error(`deno ${args.join(" ")}`);
const status = await new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  env: { DENORT_BIN: denort },
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
Deno.exit(status.code);
