import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BackendKeyError,
  backendKeyLoader,
  backendKeyPath,
  generateBackendKey,
  readBackendKey,
  removeBackendKey,
  writeBackendKey,
} from "./backend_keys.ts";
import { generateKeyPairSync } from "./ssh2_keys.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jh-bkeys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const code = (c: string) => (e: unknown) => e instanceof BackendKeyError && e.code === c;

Deno.test("writeBackendKey() stores a generated key 0600 where the proxy's loader finds it", async () => {
  await withDir(async (dir) => {
    const info = await writeBackendKey(dir, "web1", generateBackendKey("web1"));
    assert.equal(info.type, "ssh-ed25519");
    assert.match(info.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ jumphost@web1$/);
    assert.match(info.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal((await Deno.stat(info.path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "ssh", "backend_keys"))).mode! & 0o777, 0o700);
    assert.deepEqual(await readBackendKey(dir, "web1"), info);
    const loaded = await backendKeyLoader(dir)("web1");
    assert.deepEqual(loaded, await Deno.readFile(info.path));
    // no temporary file is left beside it
    assert.deepEqual([...Deno.readDirSync(join(dir, "ssh", "backend_keys"))].map((e) => e.name), ["web1"]);
  });
});

Deno.test("writeBackendKey() replaces an existing key only when told to", async () => {
  await withDir(async (dir) => {
    const first = await writeBackendKey(dir, "web1", generateBackendKey("web1"));
    await assert.rejects(writeBackendKey(dir, "web1", generateBackendKey("web1")), code("exists"));
    assert.equal((await readBackendKey(dir, "web1"))?.fingerprint, first.fingerprint);
    const second = await writeBackendKey(dir, "web1", generateBackendKey("web1"), { replace: true });
    assert.notEqual(second.fingerprint, first.fingerprint);
    assert.equal((await readBackendKey(dir, "web1"))?.fingerprint, second.fingerprint);
  });
});

Deno.test("writeBackendKey() refuses public keys, garbage and path-like names, and writes nothing", async () => {
  await withDir(async (dir) => {
    const pair = generateKeyPairSync("ed25519");
    await assert.rejects(writeBackendKey(dir, "web1", pair.public), code("invalid_key"));
    await assert.rejects(writeBackendKey(dir, "web1", "not a key\n"), code("invalid_key"));
    await assert.rejects(writeBackendKey(dir, "../etc", pair.private), code("bad_name"));
    await assert.rejects(writeBackendKey(dir, ".hidden", pair.private), code("bad_name"));
    assert.throws(() => backendKeyPath(dir, "a/b"), code("bad_name"));
    assert.equal(await backendKeyLoader(dir)("../../etc/shadow"), null);
    assert.equal(await readBackendKey(dir, "web1"), null);
  });
});

Deno.test("removeBackendKey() deletes the key and says when there is none", async () => {
  await withDir(async (dir) => {
    const info = await writeBackendKey(dir, "web1", generateBackendKey("web1"));
    assert.equal((await removeBackendKey(dir, "web1")).fingerprint, info.fingerprint);
    assert.equal(await readBackendKey(dir, "web1"), null);
    assert.equal(await backendKeyLoader(dir)("web1"), null);
    await assert.rejects(removeBackendKey(dir, "web1"), code("missing"));
  });
});
