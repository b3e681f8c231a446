// End to end: the RDP proxy pins each backend's TLS certificate on first use (xfreerdp → proxy → FreeRDP
// shadow) and refuses a different one later; the CLI sets and forgets the pin.
import assert from "node:assert/strict";
import { cliFor } from "./helpers/cli.ts";
import { haveRdpTools, runXfreerdp, startXfreerdp } from "./helpers/rdp_backend.ts";
import { POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { activated, audits, sessions, withShadow } from "./helpers/rdp_shadow.ts";

const ignore = !haveRdpTools();

Deno.test({
  name: "rdp proxy pins the backend certificate on first use and refuses a different one",
  ignore,
  async fn() {
    await withShadow(async (shadow) => {
      const env = await startRdpEnv({ backendPort: shadow.port });
      const pinned = async () =>
        (await env.db.sql<{ rdp_cert_sha256: string | null }[]>`SELECT rdp_cert_sha256 FROM servers`)[0]
          .rdp_cert_sha256;
      const connectOnce = async () => {
        const c = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await activated(env);
        } finally {
          await c.stop();
        }
      };
      try {
        assert.equal(await pinned(), null);
        await connectOnce();
        const first = await pinned();
        assert.match(first ?? "", /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        await env.proxy.auditsSettled();
        const pins = await audits(env.db.sql, "server.rdp_cert_pinned");
        assert.equal(pins.length, 1);
        assert.equal(pins[0].details.tofu, true);
        await connectOnce(); // the same certificate again: relayed, nothing new pinned
        assert.equal(await pinned(), first);

        // someone between the appliance and the backend would present another certificate
        const cli = cliFor(env.db.url);
        const shown = await cli.json<{ rdp_cert_sha256: string }>(["server", "show", "desk"]);
        assert.equal(shown.rdp_cert_sha256, first);
        const bad = await cli.run(["server", "edit", "desk", "--rdp-cert", "not-a-fingerprint"]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /SHA-256 fingerprint/);
        await cli.ok(["server", "edit", "desk", "--rdp-cert", "ab".repeat(32)]);
        assert.equal(await pinned(), Array(32).fill("AB").join(":"));
        const before = (await sessions(env.db.sql)).length;
        const r = await runXfreerdp({ host: POOL_IP, port: env.port, runMs: 20_000 });
        assert.ok(!r.killed, "the client gave up on its own");
        assert.match(r.output, /ERRINFO_SERVER_DENIED_CONNECTION/);
        await env.proxy.auditsSettled();
        const refused = await audits(env.db.sql, "rdp.cert_mismatch");
        assert.equal(refused.length, 1);
        assert.equal(refused[0].success, false);
        assert.equal(refused[0].target, "desk");
        assert.equal(refused[0].details.sha256, first);
        assert.equal((await sessions(env.db.sql)).length, before, "no session for a refused backend");

        // the admin forgets the pin (certificate renewed): the next connection pins again
        await cli.ok(["server", "edit", "desk", "--reset-rdp-cert"]);
        await connectOnce();
        assert.equal(await pinned(), first);
        assert.equal((await audits(env.db.sql, "server.rdp_cert_reset")).length, 1);
      } finally {
        await env.close();
      }
    });
  },
});
