import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { filesDir, keptFilePath, KeptFileWriter, keptInSession } from "./file_store.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("KeptFileWriter: stored by hash (0600), deduplicated, over the cap or without a hash dropped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = crypto.getRandomValues(new Uint8Array(10_000));
    for (let i = 0; i < 2; i++) {
      const w = new KeptFileWriter(dir, 20_000);
      w.write(data.subarray(0, 4000));
      w.write(data.subarray(4000));
      assert.deepEqual(await w.finish(sha(data)), { kept: true });
    }
    const path = keptFilePath(dir, sha(data))!;
    assert.deepEqual(await Deno.readFile(path), data);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal([...Deno.readDirSync(join(filesDir(dir), sha(data).slice(0, 2)))].length, 1, "stored once");

    const over = new KeptFileWriter(dir, 5000);
    over.write(data);
    assert.deepEqual(await over.finish(sha(data)), { kept: false, not_kept: "over_cap", cap_bytes: 5000 });
    const announced = new KeptFileWriter(dir, 5000, 10_000);
    assert.deepEqual(await announced.finish(sha(data)), {
      kept: false,
      not_kept: "over_cap",
      cap_bytes: 5000,
    });
    const cut = new KeptFileWriter(dir, 20_000);
    cut.write(data.subarray(0, 100));
    assert.deepEqual(await cut.finish(undefined), { kept: false, not_kept: "incomplete" });
    assert.deepEqual([...Deno.readDirSync(join(filesDir(dir), "tmp"))], [], "no temporary file left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keptFilePath and keptInSession accept only a lower-case SHA-256 the session kept", () => {
  const h = "ab".repeat(32);
  assert.equal(keptFilePath("/r", h), `/r/files/ab/${h}`);
  for (const bad of ["../../etc/passwd", h.toUpperCase(), h + "0", ""]) {
    assert.equal(keptFilePath("/r", bad), null);
  }
  const md = { transfers: [{ sha256: h, kept: true }, { sha256: "cd".repeat(32), kept: false }] };
  assert.equal(keptInSession(md, h), true);
  assert.equal(keptInSession(md, "cd".repeat(32)), false);
  assert.equal(keptInSession({ transfers: "x" }, h), false);
  assert.equal(keptInSession(null, h), false);
});
