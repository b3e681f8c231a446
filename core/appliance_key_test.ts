import assert from "node:assert/strict";
import { join } from "node:path";
import { ApplianceKeyError, applianceKeyPath, loadApplianceKey } from "./appliance_key.ts";

Deno.test("loadApplianceKey creates a 0600 key in a 0700 dir once, then reads the same key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadApplianceKey(dir, { create: false }), ApplianceKeyError);
    const [a, b] = await Promise.all([loadApplianceKey(dir), loadApplianceKey(dir)]);
    assert.equal(a.id, b.id, "two loaders racing agree on one key");
    const c = await loadApplianceKey(dir);
    assert.equal(c.id, a.id);
    assert.equal((await Deno.stat(applianceKeyPath(dir))).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "secret"))).mode! & 0o777, 0o700);
    assert.equal((await Deno.readFile(applianceKeyPath(dir))).length, 32);
    assert.deepEqual([...Deno.readDirSync(join(dir, "secret"))].map((e) => e.name), ["appliance.key"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadApplianceKey refuses a key that is too open or the wrong size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await loadApplianceKey(dir);
    const path = applianceKeyPath(dir);
    await Deno.chmod(path, 0o644);
    await assert.rejects(loadApplianceKey(dir), /too open/);
    await Deno.writeFile(path, new Uint8Array(5), { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    await assert.rejects(loadApplianceKey(dir), /holds 5 bytes/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
