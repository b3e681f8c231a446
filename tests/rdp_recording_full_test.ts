// A full disk under the RDP recordings directory (a 2 MiB tmpfs) with xfreerdp through the proxy to
// freerdp-shadow-cli: on_recording_failure = disconnect ends the connection, = continue lets it go on
// unrecorded; both write a recording.failed audit row, and a new connection is recorded once space returns.
import assert from "node:assert/strict";
import type { Sql } from "../db/client.ts";
import { haveRdpTools, startShadow, startXfreerdp, within } from "./helpers/rdp_backend.ts";
import { eventually, POOL_IP, startRdpEnv } from "./helpers/rdp_env.ts";
import { fileSize } from "../recorder/convert/cache.ts";
import { fill, mountTmpfs, umount } from "./helpers/tmpfs.ts";

const ignore = !haveRdpTools() || Deno.uid() !== 0;

const failures = (sql: Sql) =>
  sql<{ actor: string; details: Record<string, string> }[]>`
    SELECT actor, details FROM audit_log WHERE action = 'recording.failed' ORDER BY id`;

for (const mode of ["disconnect", "continue"] as const) {
  Deno.test({
    name: `rdp: disk full under recordings_dir, on_recording_failure = ${mode}`,
    ignore,
    async fn() {
      const mnt = await Deno.makeTempDir({ prefix: "jh-rdpfull-" });
      await mountTmpfs(mnt);
      const shadow = await startShadow();
      const env = await startRdpEnv({
        backendPort: shadow.port,
        proxy: { recordingsDir: mnt, onRecordingFailure: mode },
      });
      try {
        const filler = fill(mnt, 8 * 1024);
        const client = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          const rows = await eventually(
            async () => {
              await env.proxy.auditsSettled();
              const r = await failures(env.db.sql);
              return r.length ? r : null;
            },
            20_000,
            "a recording.failed row",
          );
          assert.equal(rows.length, 1, JSON.stringify(rows));
          assert.equal(rows[0].actor, "alice");
          assert.equal(rows[0].details.on_recording_failure, mode);
          assert.match(rows[0].details.error, /No space left on device|os error 28/i);
          if (mode === "disconnect") {
            await eventually(
              () => env.proxy.liveConnections().every((c) => c.sessionId === null) || null,
              10_000,
              "the connection ended",
            );
          } else {
            await new Promise((r) => setTimeout(r, 1500));
            assert.ok(env.proxy.liveConnections().some((c) => c.activated), "still live, unrecorded");
            assert.equal(
              await within(client.process.child.status.then(() => "exited"), 200, "running"),
              "running",
            );
          }
        } finally {
          await client.stop();
        }
        // space returns: the next connection is recorded
        Deno.removeSync(filler);
        const again = await startXfreerdp({ host: POOL_IP, port: env.port });
        try {
          await eventually(
            () => env.proxy.liveConnections().find((c) => c.activated),
            20_000,
            "a new session",
          );
          const rec = await eventually(
            async () => {
              const [r] = await env.db.sql<
                { path: string }[]
              >`SELECT path FROM recordings ORDER BY id DESC LIMIT 1`;
              return r && ((await fileSize(r.path)) ?? 0) > 10_000 ? r : null;
            },
            20_000,
            "a growing recording",
          );
          assert.ok(rec.path.startsWith(mnt));
        } finally {
          await again.stop();
        }
        await env.proxy.auditsSettled();
        assert.equal((await failures(env.db.sql)).length, 1, "no new failure once space returned");
      } finally {
        await env.close();
        await shadow.stop();
        await umount(mnt);
        await Deno.remove(mnt, { recursive: true }).catch(() => {});
      }
    },
  });
}
