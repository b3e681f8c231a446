// Route tests: the appliance's backend key on the server page: generate, replace (confirmed), import a pasted
// key (bad ones refused inline, never echoed), remove; operators and admins only; audited with the console
// user and address, fingerprints only.
import assert from "node:assert/strict";
import { join } from "node:path";
import { listAudit } from "../../db/audit.ts";
import { createServer } from "../../db/servers.ts";
import { readBackendKey } from "../../keys/backend_keys.ts";
import { type Fixture, fixture } from "../testing.ts";

const PUBLIC_KEY = Deno.readTextFileSync(new URL("../../tests/fixtures/alice_ed25519.pub", import.meta.url));

async function setup(): Promise<{ fx: Fixture; dataDir: string; done: () => Promise<void> }> {
  const dataDir = await Deno.makeTempDir({ prefix: "jh-web-bkey-" });
  const fx = await fixture({ dataDir });
  await createServer(fx.db.sql, { name: "web1", address: "127.0.0.1", protocols: ["ssh"] }, "test", null);
  return {
    fx,
    dataDir,
    done: async () => {
      await fx.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A private key made by ssh-keygen (its own fingerprint for comparison), optionally passphrase-protected. */
async function sshKeygen(dir: string, args: string[]): Promise<{ priv: string; fp: string }> {
  const f = join(dir, `k-${crypto.randomUUID()}`);
  const gen = await new Deno.Command("ssh-keygen", { args: ["-q", "-f", f, "-C", "t", ...args] }).output();
  assert.equal(gen.code, 0, new TextDecoder().decode(gen.stderr));
  const fp = await new Deno.Command("ssh-keygen", { args: ["-l", "-f", `${f}.pub`] }).output();
  const priv = await Deno.readTextFile(f);
  await Deno.remove(f);
  await Deno.remove(`${f}.pub`);
  return { priv, fp: new TextDecoder().decode(fp.stdout).split(" ")[1] };
}

Deno.test("backend key: generate, show the public key, replace only when confirmed, remove; audited", async () => {
  const { fx, dataDir, done } = await setup();
  try {
    const op = await fx.as("operator", "opal");
    const none = await op.page("/servers/web1");
    assert.match(none.html, /id="backend-key-state">No backend key/);
    assert.match(none.html, /action="\/servers\/web1\/backend-key\/generate"/);
    assert.doesNotMatch(none.html, /backend-key\/remove/);

    const g = await op.post("/servers/web1/backend-key/generate");
    await g.body?.cancel();
    assert.deepEqual([g.status, g.headers.get("Location")], [303, "/servers/web1?key=generated"]);
    const info = (await readBackendKey(dataDir, "web1"))!;
    assert.equal(info.type, "ssh-ed25519");
    assert.equal((await Deno.stat(info.path)).mode! & 0o777, 0o600);
    const shown = await op.page("/servers/web1?key=generated");
    assert.match(shown.html, /Backend key generated/);
    assert.match(
      shown.html,
      new RegExp(`id="backend-key-fingerprint">${info.fingerprint.replace(/\+/g, "\\+")}<`),
    );
    assert.ok(
      shown.html.includes(`id="backend-public-key" class="mono pubkey" readonly`),
      "read-only, copyable",
    );
    assert.ok(shown.html.includes(`>${info.publicKey}</textarea>`));
    assert.match(shown.html, /data-copy="#backend-public-key"/);
    assert.doesNotMatch(shown.html, /PRIVATE KEY/);
    // replacing asks first (data-confirm) and sends replace=1; without it the store refuses
    assert.match(
      shown.html,
      /action="\/servers\/web1\/backend-key\/generate" data-confirm="Replace the backend key/,
    );
    const unconfirmed = await op.post("/servers/web1/backend-key/generate");
    assert.equal(unconfirmed.status, 409);
    assert.match(await unconfirmed.text(), /already has a backend key; confirm to replace it/);
    assert.equal((await readBackendKey(dataDir, "web1"))!.fingerprint, info.fingerprint);
    const replaced = await op.post("/servers/web1/backend-key/generate", { replace: "1" });
    await replaced.body?.cancel();
    assert.equal(replaced.status, 303);
    const info2 = (await readBackendKey(dataDir, "web1"))!;
    assert.notEqual(info2.fingerprint, info.fingerprint);

    const rm = await op.post("/servers/web1/backend-key/remove");
    await rm.body?.cancel();
    assert.deepEqual([rm.status, rm.headers.get("Location")], [303, "/servers/web1?key=removed"]);
    assert.equal(await readBackendKey(dataDir, "web1"), null);
    const again = await op.post("/servers/web1/backend-key/remove");
    assert.equal(again.status, 404);
    assert.match(await again.text(), /server web1 has no backend key/);

    const set = await listAudit(fx.db.sql, { action: "server.backend_key_set" });
    assert.equal(set.length, 2);
    const byFp = (fp: string) => set.find((r) => r.details.fingerprint === fp)!;
    assert.deepEqual(byFp(info.fingerprint).details, {
      how: "generated",
      type: "ssh-ed25519",
      fingerprint: info.fingerprint,
      replaced: null,
    });
    assert.equal(byFp(info2.fingerprint).details.replaced, info.fingerprint);
    const [removed] = await listAudit(fx.db.sql, { action: "server.backend_key_removed" });
    for (const r of [...set, removed]) {
      assert.deepEqual([r.actor, r.target, r.source_ip, r.success], [
        "console:opal",
        "web1",
        "192.0.2.10",
        true,
      ]);
    }
    assert.deepEqual(removed.details, { fingerprint: info2.fingerprint });
  } finally {
    await done();
  }
});

Deno.test("backend key: import a pasted key; encrypted, public and garbage keys are refused inline and not echoed", async () => {
  const { fx, dataDir, done } = await setup();
  try {
    const admin = await fx.as("admin", "root");
    await admin.page("/servers/web1");
    const rsa = await sshKeygen(dataDir, ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""]);
    const enc = await sshKeygen(dataDir, ["-t", "ed25519", "-N", "a passphrase"]);
    const pub = (await readBackendKey(dataDir, "web1")) ?? null;
    assert.equal(pub, null);

    const bad: [string, string, RegExp][] = [
      ["encrypted", enc.priv, /encrypted with a passphrase/],
      ["public", PUBLIC_KEY, /a public key was given; a private key is needed/],
      [
        "garbage",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZS1zZWNyZXQtbWFya2Vy\n-----END OPENSSH PRIVATE KEY-----\n",
        /not a usable private key/,
      ],
      ["empty", "   \n", /paste a private key/],
      ["too long", "x".repeat(40_000), /too long/],
    ];
    for (const [what, text, msg] of bad) {
      const r = await admin.post("/servers/web1/backend-key/import", { private_key: text });
      assert.equal(r.status, 400, what);
      const html = await r.text();
      assert.match(html, /id="f-private_key-err"/, what);
      assert.match(html, msg, what);
      // nothing of the pasted text comes back
      for (const line of text.split("\n").filter((l) => l.trim().length > 8)) {
        assert.ok(!html.includes(line.slice(0, 40)), `${what}: echoed ${line.slice(0, 20)}`);
      }
      assert.equal(await readBackendKey(dataDir, "web1"), null, what);
    }
    assert.equal((await listAudit(fx.db.sql, { action: "server.backend_key_set" })).length, 0);

    const ok = await admin.post("/servers/web1/backend-key/import", { private_key: rsa.priv });
    await ok.body?.cancel();
    assert.deepEqual([ok.status, ok.headers.get("Location")], [303, "/servers/web1?key=imported"]);
    const info = (await readBackendKey(dataDir, "web1"))!;
    assert.equal(info.type, "ssh-rsa");
    assert.equal(info.fingerprint, rsa.fp, "the fingerprint ssh-keygen reports");
    assert.equal(await Deno.readTextFile(info.path), rsa.priv);
    const shown = await admin.page("/servers/web1?key=imported");
    assert.match(shown.html, /Backend key imported/);
    assert.ok(!shown.html.includes(rsa.priv.split("\n")[1]), "the private key is not in the page");
    // importing over a key needs the confirmed form's replace=1
    const over = await admin.post("/servers/web1/backend-key/import", { private_key: rsa.priv });
    assert.equal(over.status, 409);
    await over.body?.cancel();
    const [ev] = await listAudit(fx.db.sql, { action: "server.backend_key_set" });
    assert.deepEqual(ev.details, { how: "imported", type: "ssh-rsa", fingerprint: rsa.fp, replaced: null });
    assert.equal(ev.actor, "console:root");
    assert.ok(!JSON.stringify(await listAudit(fx.db.sql, { limit: 1000 })).includes(rsa.priv.split("\n")[1]));
  } finally {
    await done();
  }
});

Deno.test("backend key: auditors are refused, CSRF is required, unknown servers are a 404", async () => {
  const { fx, dataDir, done } = await setup();
  try {
    const op = await fx.as("operator", "opal");
    await op.post("/servers/web1/backend-key/generate").then((r) => r.body?.cancel());
    const before = (await readBackendKey(dataDir, "web1"))!.fingerprint;
    const aud = await fx.as("auditor", "aud");
    assert.equal((await aud.page("/servers/web1")).status, 403);
    for (const action of ["generate", "import", "remove"]) {
      const r = await aud.post(`/servers/web1/backend-key/${action}`, { replace: "1", private_key: "x" });
      await r.body?.cancel();
      assert.equal(r.status, 403, action);
      const forged = await op.post(`/servers/web1/backend-key/${action}`, { _csrf: "forged", replace: "1" });
      await forged.body?.cancel();
      assert.equal(forged.status, 403, `${action} without the CSRF token`);
    }
    assert.equal((await readBackendKey(dataDir, "web1"))!.fingerprint, before);
    assert.equal((await listAudit(fx.db.sql, { action: "server.backend_key_removed" })).length, 0);
    const ghost = await op.post("/servers/ghost/backend-key/generate");
    await ghost.body?.cancel();
    assert.equal(ghost.status, 404);
    assert.equal(await readBackendKey(dataDir, "ghost"), null);
  } finally {
    await done();
  }
});

Deno.test("backend key: without a data directory the panel says so and actions are refused", async () => {
  const fx = await fixture();
  try {
    await createServer(fx.db.sql, { name: "web1", address: "127.0.0.1", protocols: ["ssh"] }, "test", null);
    const op = await fx.as("operator");
    const p = await op.page("/servers/web1");
    assert.match(p.html, /Not available: the console was started without a data directory/);
    assert.doesNotMatch(p.html, /backend-key\/generate/);
    const r = await op.post("/servers/web1/backend-key/generate");
    await r.body?.cancel();
    assert.equal(r.status, 503);
  } finally {
    await fx.close();
  }
});
