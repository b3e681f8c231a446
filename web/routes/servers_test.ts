// Route tests: /servers and /groups against a real database.
import assert from "node:assert/strict";
import { getServer, pinHostKey } from "../../db/servers.ts";
import { getGroup } from "../../db/groups.ts";
import { listAudit } from "../../db/audit.ts";
import { checkRdpCertPin } from "../../db/rdp_cert_pins.ts";
import { generateBackendKey, writeBackendKey } from "../../keys/backend_keys.ts";
import { fixture } from "../testing.ts";

const HOST_KEY = Deno.readTextFileSync(new URL("../../tests/fixtures/alice_ed25519.pub", import.meta.url))
  .trim();

Deno.test("servers: create with an auto pool IP, edit ports and pool IP, reset the pinned host key, delete", async () => {
  const fx = await fixture({ ipPool: "127.0.5.0/29" });
  try {
    const op = await fx.as("operator");
    const form = await op.page("/servers/new");
    assert.match(form.html, /127\.0\.5\.0\/29/);
    const r = await op.post("/servers", {
      name: "web1",
      address: "127.0.0.1",
      protocols: ["ssh", "rdp"],
      ssh_port: "2022",
      rdp_port: "3389",
      pool_ip: "auto",
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const s = await getServer(fx.db.sql, "web1");
    assert.equal(s.pool_ip, "127.0.5.1");
    assert.deepEqual(s.protocols, ["ssh", "rdp"]);
    const page = await op.page("/servers/web1");
    assert.match(page.html, /id="server-pool-ip">127\.0\.5\.1</);
    assert.match(page.html, /none yet/);

    const e = await op.post("/servers/web1/edit", {
      address: "127.0.0.2",
      protocols: "ssh",
      ssh_port: "22",
      rdp_port: "3389",
      pool_ip: "127.0.5.5",
      rdp_listen_port: "",
      description: "front end",
      active: "on",
    });
    await e.body?.cancel();
    assert.equal(e.status, 303);
    const s2 = await getServer(fx.db.sql, "web1");
    assert.equal(s2.address, "127.0.0.2");
    assert.equal(s2.pool_ip, "127.0.5.5");
    assert.deepEqual(s2.protocols, ["ssh"]);
    assert.equal(s2.ssh_port, 22);

    await pinHostKey(fx.db.sql, s2.id, HOST_KEY, "test");
    const pinned = await op.page("/servers/web1");
    assert.match(pinned.html, /SHA256:[A-Za-z0-9+/]{43}/);
    const reset = await op.post("/servers/web1/host-key/reset");
    await reset.body?.cancel();
    assert.equal((await getServer(fx.db.sql, "web1")).host_key, null);

    const d = await op.post("/servers/web1/delete");
    await d.body?.cancel();
    assert.equal(d.status, 303);
    assert.equal((await op.page("/servers/web1")).status, 404);
    const actions = (await listAudit(fx.db.sql, { action: "server." })).map((a) => a.action).reverse();
    assert.deepEqual(actions, [
      "server.create",
      "server.update",
      "server.host_key_pinned",
      "server.host_key_reset",
      "server.update",
      "server.delete",
    ]);
  } finally {
    await fx.close();
  }
});

Deno.test("servers: the pinned RDP certificate is shown and can be reset (audited)", async () => {
  const fx = await fixture({ ipPool: "127.0.5.0/29" });
  try {
    const op = await fx.as("operator");
    const r = await op.post("/servers", {
      name: "desk",
      address: "127.0.0.1",
      protocols: "rdp",
      ssh_port: "22",
      rdp_port: "3389",
      pool_ip: "none",
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const s = await getServer(fx.db.sql, "desk");
    assert.match((await op.page("/servers/desk")).html, /id="server-rdp-cert"><span class="muted">none yet/);
    const fp = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":");
    assert.equal(await checkRdpCertPin(fx.db.sql, s.id, fp.toLowerCase(), "rdp-proxy"), "pinned");
    assert.equal(await checkRdpCertPin(fx.db.sql, s.id, fp, "rdp-proxy"), "match");
    assert.equal(await checkRdpCertPin(fx.db.sql, s.id, "FF".repeat(32), "rdp-proxy"), "mismatch");
    const page = await op.page("/servers/desk");
    assert.ok(page.html.includes(`SHA256 ${fp}`));
    const reset = await op.post("/servers/desk/rdp-cert/reset");
    await reset.body?.cancel();
    assert.equal(reset.status, 303);
    assert.equal((await getServer(fx.db.sql, "desk")).rdp_cert_sha256, null);
    const actions = (await listAudit(fx.db.sql, { action: "server." })).map((a) => a.action)
      .filter((a) => a.startsWith("server.rdp_cert")).reverse();
    assert.deepEqual(actions, ["server.rdp_cert_pinned", "server.rdp_cert_reset"]);
  } finally {
    await fx.close();
  }
});

Deno.test("servers: deleting a server from the console removes its backend key (audited)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jh-web-bkey-" });
  const fx = await fixture({ dataDir });
  try {
    const op = await fx.as("operator");
    const r = await op.post("/servers", {
      name: "web9",
      address: "127.0.0.1",
      protocols: "ssh",
      ssh_port: "22",
      rdp_port: "3389",
      pool_ip: "none",
    });
    await r.body?.cancel();
    const info = await writeBackendKey(dataDir, "web9", generateBackendKey("web9"), { replace: false });
    const d = await op.post("/servers/web9/delete");
    await d.body?.cancel();
    assert.equal(d.status, 303);
    await assert.rejects(Deno.stat(info.path), Deno.errors.NotFound);
    const [row] = await listAudit(fx.db.sql, { action: "server.backend_key_removed" });
    assert.equal(row.details.fingerprint, info.fingerprint);
    assert.equal(row.details.reason, "server deleted");
    assert.equal(row.actor, "console:operator");
  } finally {
    await fx.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("servers: field errors inline; pool and port conflicts from the store on the right field", async () => {
  const fx = await fixture({ ipPool: "127.0.5.0/30" });
  try {
    const op = await fx.as("admin");
    const bad = await op.post("/servers", {
      name: "",
      address: "no spaces allowed",
      ssh_port: "99999",
      pool_ip: "",
    });
    assert.equal(bad.status, 400);
    const html = await bad.text();
    for (const f of ["name", "address", "ssh_port"]) assert.match(html, new RegExp(`id="f-${f}-err"`), f);
    assert.match(html, /<span class="error">choose SSH, RDP or both<\/span>/);
    assert.match(html, /value="no spaces allowed"/);
    await (await op.post("/servers", {
      name: "a",
      address: "h1",
      protocols: "ssh",
      pool_ip: "auto",
      rdp_listen_port: "3390",
    })).body?.cancel();
    const clash = await op.post("/servers", {
      name: "b",
      address: "h2",
      protocols: "ssh",
      pool_ip: "127.0.5.1",
    });
    assert.equal(clash.status, 400);
    assert.match(await clash.text(), /id="f-pool_ip-err">[^<]*already allocated/);
    const port = await op.post("/servers", {
      name: "c",
      address: "h3",
      protocols: "ssh",
      rdp_listen_port: "3390",
    });
    assert.match(await port.text(), /id="f-rdp_listen_port-err">/);
    const outside = await op.post("/servers", {
      name: "d",
      address: "h4",
      protocols: "ssh",
      pool_ip: "10.9.9.9",
    });
    assert.match(await outside.text(), /outside the pool/);
  } finally {
    await fx.close();
  }
});

Deno.test("groups: create server and user groups, add and remove members, errors inline, delete", async () => {
  const fx = await fixture();
  try {
    const op = await fx.as("operator");
    await (await op.post("/servers", { name: "web1", address: "h1", protocols: "ssh" })).body?.cancel();
    await (await op.post("/users", { name: "bob" })).body?.cancel();
    for (const kind of ["server", "user"]) {
      const r = await op.post(`/groups/${kind}`, { name: `${kind}s-all`, description: "<b>all</b>" });
      await r.body?.cancel();
      assert.equal(r.status, 303, kind);
    }
    const list = await op.page("/groups");
    assert.match(list.html, /&lt;b>all&lt;\/b>/);
    const gp = await op.page("/groups/server/servers-all");
    assert.match(gp.html, /<option\s+value="web1">web1<\/option>/);
    await (await op.post("/groups/server/servers-all/members/add", { member: "web1" })).body?.cancel();
    await (await op.post("/groups/user/users-all/members/add", { member: "bob" })).body?.cancel();
    assert.deepEqual((await getGroup(fx.db.sql, "server", "servers-all")).members, ["web1"]);
    assert.deepEqual((await getGroup(fx.db.sql, "user", "users-all")).members, ["bob"]);
    const missing = await op.post("/groups/user/users-all/members/add", { member: "ghost" });
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /user &quot;ghost&quot; not found|user "ghost" not found/);
    await (await op.post("/groups/server/servers-all/members/remove", { member: "web1" })).body?.cancel();
    const ed = await op.post("/groups/server/servers-all/edit", { description: "web <tier>" });
    await ed.body?.cancel();
    assert.equal(ed.status, 303);
    assert.equal((await getGroup(fx.db.sql, "server", "servers-all")).description, "web <tier>");
    assert.match((await op.page("/groups/server/servers-all")).html, /value="web &lt;tier>"/);
    const long = await op.post("/groups/user/users-all/edit", { description: "x".repeat(501) });
    assert.equal(long.status, 400);
    assert.match(await long.text(), /longer than 500/);
    assert.deepEqual((await getGroup(fx.db.sql, "server", "servers-all")).members, []);
    const dup = await op.post("/groups/server", { name: "servers-all" });
    assert.equal(dup.status, 400);
    assert.match(await dup.text(), /already exists/);
    const badName = await op.post("/groups/user", { name: "has space" });
    assert.equal(badName.status, 400);
    await badName.body?.cancel();
    await (await op.post("/groups/server/servers-all/delete")).body?.cancel();
    assert.equal((await op.page("/groups/server/servers-all")).status, 404);
    assert.equal((await op.page("/groups/robot/x")).status, 404);
  } finally {
    await fx.close();
  }
});

Deno.test("servers: the password passthrough checkbox (on for a new server, saved, shown, audited, CSRF)", async () => {
  const fx = await fixture({});
  try {
    const op = await fx.as("operator");
    const form = await op.page("/servers/new");
    assert.match(
      form.html,
      /<input type="checkbox" id="f-password_passthrough" name="password_passthrough" value="on" checked/,
    );
    assert.match(form.html, /keep jump passwords at the jump/);
    const fields = { address: "127.0.0.1", protocols: "ssh", ssh_port: "22", rdp_port: "3389" };
    // an unchecked box sends nothing: off
    const r = await op.post("/servers", { name: "web9", ...fields });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.equal((await getServer(fx.db.sql, "web9")).password_passthrough, false);
    assert.match((await op.page("/servers/web9")).html, /id="server-password-passthrough">off</);
    const edit = await op.page("/servers/web9/edit");
    assert.doesNotMatch(edit.html, /name="password_passthrough" value="on" checked/);

    const forged = await op.post("/servers/web9/edit", { ...fields, password_passthrough: "on", _csrf: "x" });
    await forged.body?.cancel();
    assert.equal(forged.status, 403);
    assert.equal((await getServer(fx.db.sql, "web9")).password_passthrough, false);

    const e = await op.post("/servers/web9/edit", { ...fields, password_passthrough: "on", active: "on" });
    await e.body?.cancel();
    assert.equal(e.status, 303);
    assert.equal((await getServer(fx.db.sql, "web9")).password_passthrough, true);
    assert.match((await op.page("/servers/web9")).html, /id="server-password-passthrough">on</);
    const [update] = await listAudit(fx.db.sql, { action: "server.update" });
    assert.deepEqual(update.details, { password_passthrough: true });
  } finally {
    await fx.close();
  }
});
