// End to end: who may use an RDP session without NLA. xfreerdp (under Xvfb) → RDP proxy → FreeRDP shadow.
// A source shared by two users is denied whatever name the client types (the mstshash cookie is not
// proof); a Windows login outside the grant's list is refused at the Client Info PDU, before the backend
// receives the user name and password.
import assert from "node:assert/strict";
import { createUser } from "../db/users.ts";
import { haveRdpTools, runXfreerdp } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { activated, audits, sessions, withShadow } from "./helpers/rdp_shadow.ts";
import { startXfreerdp } from "./helpers/rdp_backend.ts";

const ignore = !haveRdpTools();

Deno.test({
  name: "rdp proxy denies a shared source without NLA, whatever user name the client sends",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({
        backendPort: shadow.port,
        // bob shares alice's address (an office NAT); alice has the grant
        setup: async (db) => {
          await db.sql`UPDATE user_source_ips SET shared = true`;
          await createUser(
            db.sql,
            { name: "bob", sourceIps: [{ cidr: "127.0.0.1/32", shared: true }] },
            "test",
          );
        },
      });
      try {
        // bob types alice's name: the cookie says alice, and it must not matter
        const r = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000, user: "alice" });
        assert.ok(!r.killed, "the client gave up on its own");
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        await env.proxy.auditsSettled();
        const denied = await audits(env.db.sql, "rdp.access_denied");
        assert.equal(denied.length, 1);
        assert.equal(denied[0].details.reason, "ambiguous_source");
        assert.equal(denied[0].actor, "unknown", "an unproven connection is nobody's");
        assert.equal(denied[0].details.cookie, "alice");
        assert.match(String(denied[0].details.detail), /users alice, bob; only NLA can tell them apart/);
        assert.equal((await audits(env.db.sql, "rdp.access_granted")).length, 0);
        assert.equal((await sessions(env.db.sql)).length, 0);
      } finally {
        await env.close();
      }
    });
  },
});

Deno.test({
  name: "rdp proxy refuses a Windows login outside the grant's list at the Client Info PDU",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port, logins: ["CORP\\alice-adm", "RDPUSER"] });
      try {
        // an account outside the list: refused before the backend sees the Client Info
        const r = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000, user: "administrator" });
        assert.ok(!r.killed, "the client gave up on its own");
        assert.match(r.output, /ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES|insufficient privileges/i);
        await env.proxy.auditsSettled();
        const denied = await audits(env.db.sql, "rdp.access_denied");
        assert.equal(denied.length, 1);
        assert.equal(denied[0].details.reason, "login_not_allowed");
        assert.equal(denied[0].details.login, "administrator");
        assert.equal(denied[0].details.phase, "client_info");
        assert.equal(denied[0].actor, "alice");
        const [refused] = await eventually(
          async () => {
            const r = await sessions(env.db.sql);
            return r.length === 1 && !r[0].is_active && r;
          },
          10_000,
          "the refused session to close",
        );
        assert.equal(refused.termination_reason, "error");
        assert.match(refused.termination_detail ?? "", /^refused: login_not_allowed: .*as "administrator"/);
        assert.equal(refused.metadata.client_user, null, "the Client Info never went further than the gate");
        assert.equal(refused.metadata.logged_on_at, null);

        // xfreerdp's usual rdpuser (no domain) matches "RDPUSER" case-insensitively
        const ok = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await activated(env);
        } finally {
          await ok.stop();
        }
        const rows = await eventually(
          async () => {
            const r = await sessions(env.db.sql);
            return r.length === 2 && !r[1].is_active && r;
          },
          10_000,
          "the second session to close",
        );
        assert.equal(rows[1].metadata.client_user, "rdpuser");
      } finally {
        await env.close();
      }
    });
  },
});
