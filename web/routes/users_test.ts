// Route tests: /users pages and forms against a real database.
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { getUser } from "../../db/users.ts";
import { fixture } from "../testing.ts";

const KEY = Deno.readTextFileSync(new URL("../../tests/fixtures/alice_ed25519.pub", import.meta.url)).trim();

Deno.test("users: create with two source IPs and a key, see fingerprints, edit, disable, delete", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator", "opal");
    assert.equal((await op.page("/users/new")).status, 200);
    const r = await op.post("/users", {
      name: "alice",
      full_name: "Alice A",
      email: "alice@example.org",
      source_ips: "192.0.2.7\n10.1.0.0/24 shared",
      ssh_keys: KEY,
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("Location"), "/users/alice?created=1");
    const u = await getUser(fx.db.sql, "alice");
    assert.deepEqual(u.source_ips, [{ cidr: "10.1.0.0/24", shared: true }, {
      cidr: "192.0.2.7/32",
      shared: false,
    }]);
    const detail = await op.page("/users/alice");
    assert.match(detail.html, /SHA256:[A-Za-z0-9+/]{43}/);
    assert.match(detail.html, /10\.1\.0\.0\/24 \(shared\)/);
    const list = await op.page("/users?q=ali");
    assert.match(list.html, /href="\/users\/alice"/);
    assert.doesNotMatch((await op.page("/users?q=zzz")).html, /href="\/users\/alice"/);

    // edit: drop one address, add another, remove the key, set a password
    const form = await op.page("/users/alice/edit");
    assert.match(form.html, /192\.0\.2\.7\n10\.1\.0\.0\/24 shared|10\.1\.0\.0\/24 shared\n192\.0\.2\.7/);
    const e = await op.post("/users/alice/edit", {
      full_name: "Alice B",
      email: "alice@example.org",
      source_ips: "192.0.2.8",
      ssh_keys: "",
      remove_key: u.ssh_keys[0].fingerprint,
      password: "s3cret-pass",
    });
    await e.body?.cancel();
    assert.equal(e.status, 303);
    const u2 = await getUser(fx.db.sql, "alice");
    assert.deepEqual(u2.source_ips.map((s) => s.cidr), ["192.0.2.8/32"]);
    assert.equal(u2.ssh_keys.length, 0);
    assert.equal(u2.full_name, "Alice B");
    assert.equal(u2.has_password, true);

    for (const [path, active] of [["/users/alice/disable", false], ["/users/alice/enable", true]] as const) {
      const x = await op.post(path);
      await x.body?.cancel();
      assert.equal(x.status, 303);
      assert.equal((await getUser(fx.db.sql, "alice")).active, active);
    }
    const d = await op.post("/users/alice/delete");
    await d.body?.cancel();
    assert.equal(d.headers.get("Location"), "/users?deleted=alice");
    assert.equal((await op.page("/users/alice")).status, 404);

    const actions = (await listAudit(fx.db.sql, { actor: "console:opal", action: "user." })).map((a) =>
      a.action
    );
    assert.deepEqual(actions.reverse(), [
      "user.create",
      "user.update",
      "user.disable",
      "user.enable",
      "user.delete",
    ]);
  } finally {
    await fx.close();
  }
});

Deno.test("users: invalid fields come back inline, every one, with the typed values", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("admin");
    const r = await op.post("/users", {
      name: "bad name!",
      email: "nope",
      source_ips: "10.1.0.1/24\n300.1.1.1",
      ssh_keys: "ssh-rsa not-base64!",
      full_name: "Kept Value",
    });
    assert.equal(r.status, 400);
    const html = await r.text();
    for (const f of ["name", "email", "source_ips", "ssh_keys"]) {
      assert.match(html, new RegExp(`id="f-${f}-err"`), f);
    }
    assert.match(html, /host bits set/);
    assert.match(html, /value="Kept Value"/);
    assert.match(html, /value="bad name!"/);
    assert.match(html, /10\.1\.0\.1\/24\n300\.1\.1\.1<\/textarea>/);
    assert.equal((await fx.db.sql`SELECT count(*)::int AS n FROM users`)[0].n, 0);

    // conflicts found by the store also land on the field
    await (await op.post("/users", { name: "bob", source_ips: "192.0.2.9" })).body?.cancel();
    const dup = await op.post("/users", { name: "bob" });
    assert.equal(dup.status, 400);
    assert.match(
      await dup.text(),
      /id="f-name-err">user &quot;bob&quot; already exists|id="f-name-err">user "bob" already exists/,
    );
    const taken = await op.post("/users", { name: "carol", source_ips: "192.0.2.9" });
    assert.equal(taken.status, 400);
    assert.match(await taken.text(), /id="f-source_ips-err">[^<]*already belongs to user bob/);
  } finally {
    await fx.close();
  }
});

Deno.test("users: script in names and fields renders as text", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("admin");
    const evil = `<script>alert("x")</script>`;
    await (await op.post("/users", { name: "mallory", full_name: evil, email: "" })).body?.cancel();
    for (const p of ["/users", "/users/mallory"]) {
      const html = (await op.page(p)).html;
      assert.ok(!html.includes(evil), p);
      assert.match(html, /&lt;script>alert\(&quot;x&quot;\)&lt;\/script>/);
    }
    // a rejected name is echoed escaped too
    const r = await op.post("/users", { name: evil });
    const html = await r.text();
    assert.ok(!html.includes(evil));
  } finally {
    await fx.close();
  }
});

Deno.test("users: auditors get 403 for every users page and form", async () => {
  const fx = await fixture();
  try {
    const a = await fx.as("auditor");
    for (const p of ["/users", "/users/new", "/users/x", "/users/x/edit"]) {
      assert.equal((await a.page(p)).status, 403, p);
    }
    for (const p of ["/users", "/users/x/edit", "/users/x/disable", "/users/x/delete"]) {
      const r = await a.post(p, { name: "x" });
      await r.body?.cancel();
      assert.equal(r.status, 403, p);
    }
    assert.equal((await fx.db.sql`SELECT count(*)::int AS n FROM users`)[0].n, 0);
  } finally {
    await fx.close();
  }
});
