// The committed player bundle is what `deno task bundle:player` makes from the sources today.
import assert from "node:assert/strict";
import { bundlePlayer, OUTPUT } from "../scripts/bundle_rdp_player.ts";

Deno.test("web/static/rdp_player.js is up to date with web/player and recorder/ (deno task bundle:player)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jh-bundle-" });
  try {
    await bundlePlayer(`${dir}/rdp_player.js`);
    const fresh = await Deno.readTextFile(`${dir}/rdp_player.js`);
    const committed = await Deno.readTextFile(new URL(`../${OUTPUT}`, import.meta.url));
    assert.ok(fresh === committed, "the bundle is stale: run `deno task bundle:player` and commit it");
    assert.doesNotMatch(fresh, /\bDeno\.|from "node:/, "the browser bundle uses no Deno or Node APIs");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
