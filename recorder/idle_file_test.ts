import assert from "node:assert/strict";
import { IdleFile } from "./idle_file.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("IdleFile closes its handle when idle and reopens it where writing stopped", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/r.cast`;
  const f = new IdleFile(path, await Deno.open(path, { write: true, createNew: true, mode: 0o600 }), 50);
  const enc = new TextEncoder();
  await f.write(enc.encode("hello "));
  assert.equal(f.open, true);
  await sleep(120);
  assert.equal(f.open, false);
  await f.write(enc.encode("world"));
  assert.equal(f.open, true);
  // seek + truncate (the age sink's way of rewriting its last chunk) survive a reopen too
  await sleep(120);
  await f.seek(6, Deno.SeekMode.Start);
  await f.write(enc.encode("there"));
  await sleep(120);
  await f.truncate(8);
  f.close();
  assert.equal(await Deno.readTextFile(path), "hello th");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("IdleFile: concurrent writes keep their order, a deleted recording fails loudly", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/r.cast`;
  const f = new IdleFile(path, await Deno.open(path, { write: true, createNew: true }), 30);
  await sleep(80);
  const enc = new TextEncoder();
  await Promise.all(["a", "b", "c", "d"].map((s) => f.write(enc.encode(s))));
  assert.equal(await Deno.readTextFile(path), "abcd");
  await sleep(80);
  await Deno.remove(path);
  await assert.rejects(() => f.write(enc.encode("e")), Deno.errors.NotFound);
  f.close();
  await assert.rejects(() => f.write(enc.encode("f")), Deno.errors.BadResource);
  await Deno.remove(dir, { recursive: true });
});
