// deno task bundle:player — bundles the in-browser RDP player (web/player/rdp_player.ts, with the
// renderer of recorder/rdp_render/) into web/static/rdp_player.js, which the console serves and
// `deno compile` embeds like every static asset. The bundle is committed;
// tests/rdp_player_bundle_test.ts fails while it is older than its sources.
import { fileURLToPath } from "node:url";

export const ENTRY = "web/player/rdp_player.ts";
export const OUTPUT = "web/static/rdp_player.js";
const root = fileURLToPath(new URL("../", import.meta.url));

/** Bundle the player to `output` (relative to the repository root, or absolute). */
export async function bundlePlayer(output: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "iife", "-o", output, ENTRY],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
}

if (import.meta.main) {
  await bundlePlayer(OUTPUT);
  console.error(`wrote ${OUTPUT}`);
}
