// Route tests: every audit row a console action writes carries the admin's client address, shown on the
// audit page and in the exports; changes from the command line (a bare actor name) have none.
import assert from "node:assert/strict";
import { listAudit } from "../../db/audit.ts";
import { createConsoleUser } from "../../db/console_users.ts";
import { enqueueConversion } from "../../db/conversions.ts";
import { addRecording } from "../../db/recordings.ts";
import { createUser } from "../../db/users.ts";
import { hashPassword } from "../../policy/password.ts";
import { fixture, insertSession } from "../testing.ts";

const ADMIN_IP = "198.51.100.7";

Deno.test("audit rows of console changes carry the client address; the page and exports show it", async () => {
  const fx = await fixture();
  try {
    await createConsoleUser(fx.db.sql, {
      name: "root",
      role: "admin",
      passwordHash: await hashPassword("pw-root-secret"),
    }, { actor: "test" });
    const a = fx.client(ADMIN_IP);
    assert.equal((await a.login("root", "pw-root-secret")).status, 303);

    const live = await insertSession(fx.db.sql, { active: true });
    const rdp = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win9" });
    const rid = await addRecording(fx.db.sql, {
      sessionRowId: rdp.id,
      kind: "rdp",
      channel: null,
      path: "/nonexistent/x.rdprec",
    });
    const { job } = await enqueueConversion(fx.db.sql, {
      recordingId: rid,
      sourceSize: 1000,
      sourceMtime: null,
      rush: false,
      requestedBy: "console:x",
      now: new Date(),
    });
    const steps: [string, Record<string, string | string[]>][] = [
      ["/users", { name: "carol", source_ips: "192.0.2.99" }],
      ["/users/carol/edit", { full_name: "Carol C", email: "", source_ips: "192.0.2.98", ssh_keys: "" }],
      ["/users/carol/disable", {}],
      ["/servers", { name: "db1", address: "127.0.0.1", protocols: "ssh" }],
      ["/servers/db1/edit", {
        address: "127.0.0.2",
        protocols: "ssh",
        ssh_port: "22",
        rdp_port: "3389",
        pool_ip: "",
        rdp_listen_port: "",
      }],
      ["/servers/db1/host-key/reset", {}],
      ["/groups/server", { name: "dbs" }],
      ["/groups/server/dbs/members/add", { member: "db1" }],
      ["/groups/server/dbs/edit", { description: "databases" }],
      ["/groups/user", { name: "dba" }],
      ["/groups/user/dba/members/add", { member: "carol" }],
      ["/groups/user/dba/members/remove", { member: "carol" }],
      [`/sessions/${live.session_id}/kill`, {}],
      ["/console-users", { name: "helper", role: "auditor" }],
      ["/console-users/helper/reset-password", {}],
      [`/recordings/jobs/${job.id}/rush`, {}],
      [`/recordings/jobs/${job.id}/cancel`, {}],
      ["/access", { source_ip: "192.0.2.99", server: "db1", protocol: "ssh", login: "postgres", at: "" }],
    ];
    for (const [path, form] of steps) {
      const r = await a.post(path, form);
      await r.body?.cancel();
      assert.ok(r.status === 303 || r.status === 200, `${path}: ${r.status}`);
    }
    // the policy wizard, then revoke and delete
    await (await a.post("/users/carol/enable")).body?.cancel();
    let values: Record<string, string> = {};
    const answers: Record<string, string>[] = [
      { subject_kind: "user", subject: "carol" },
      { scope_kind: "server", scope: "db1" },
      { logins: "postgres" },
      { validity_mode: "duration", duration_minutes: "30" },
      {},
    ];
    let created: Response | null = null;
    for (let step = 0; step < answers.length && !created; step++) {
      values = { ...values, ...answers[step] };
      const r = await a.post("/policies/new", {
        ...values,
        step: String(step),
        go: step === 4 ? "create" : "next",
      });
      const html = await r.text();
      if (r.status === 303) created = r;
      else assert.equal(r.status, 200, html);
    }
    const id = /\/policies\/(\d+)/.exec(created!.headers.get("Location")!)![1];
    for (const path of [`/policies/${id}/revoke`, `/policies/${id}/delete`]) {
      const r = await a.post(path, { reason: "done" });
      await r.body?.cancel();
      assert.equal(r.status, 303, path);
    }
    for (const path of ["/groups/server/dbs/delete", "/groups/user/dba/delete", "/servers/db1/delete"]) {
      await (await a.post(path)).body?.cancel();
    }
    await (await a.post("/users/carol/delete")).body?.cancel();
    await (await a.post("/console-users/helper/delete")).body?.cancel();
    await (await a.post("/logout")).body?.cancel();

    const rows = await listAudit(fx.db.sql, { actor: "console:root", limit: 1000 });
    const actions = new Set(rows.map((r) => r.action));
    for (
      const want of [
        "console.login",
        "user.create",
        "user.update",
        "user.disable",
        "user.enable",
        "user.delete",
        "server.create",
        "server.update",
        "server.host_key_reset",
        "server.delete",
        "group.create",
        "group.member_add",
        "group.update",
        "group.delete",
        "usergroup.create",
        "usergroup.member_add",
        "usergroup.member_remove",
        "usergroup.delete",
        "policy.create",
        "policy.revoke",
        "policy.delete",
        "session.kill",
        "console.user_create",
        "console.password_reset",
        "recording.convert",
        "recording.convert_cancel",
        "access.check",
        "console.user_delete",
        "console.logout",
      ]
    ) assert.ok(actions.has(want), `no ${want} row`);
    for (const r of rows) assert.equal(r.source_ip, ADMIN_IP, `${r.action} has source ${r.source_ip}`);

    // the same change from the command line records no address
    await createUser(fx.db.sql, { name: "dave" }, "cli:root");
    const [cli] = await listAudit(fx.db.sql, { actor: "cli:root", action: "user.create" });
    assert.equal(cli.source_ip, null);

    // the audit page filters and shows the address; CSV and JSON exports carry it
    const au = await fx.as("auditor");
    const pg = await au.page(`/audit?ip=${ADMIN_IP}&action=user.create`);
    assert.equal(pg.status, 200);
    assert.match(pg.html, new RegExp(`<td class="mono">${ADMIN_IP.replaceAll(".", "\\.")}</td>`));
    assert.doesNotMatch(pg.html, /dave/);
    const csv = await (await au.get(`/audit/export.csv?ip=${ADMIN_IP}&action=policy.create`)).text();
    assert.match(csv.split("\n")[0], /source_ip/);
    assert.match(
      csv.split("\n")[1],
      new RegExp(`,policy\\.create,policy:${id},${ADMIN_IP.replaceAll(".", "\\.")},`),
    );
    const json = JSON.parse(await (await au.get(`/audit/export.json?ip=${ADMIN_IP}`)).text());
    assert.ok(json.length >= rows.length);
    assert.ok(json.every((r: { source_ip: string }) => r.source_ip === ADMIN_IP));
  } finally {
    await fx.close();
  }
});
