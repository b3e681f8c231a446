// A full disk under recordings_dir (a 2 MiB tmpfs): on_recording_failure = disconnect ends the SSH session
// (fail closed), = continue lets it go on unrecorded; both write a recording.failed audit row, serve keeps
// running, and sessions are recorded again once space returns. Needs root (mount).
import assert from "node:assert/strict";
import { startServeEnv } from "./helpers/serve_env.ts";
import { sshWith } from "./helpers/ssh_clients.ts";
import { fill, mountTmpfs, umount } from "./helpers/tmpfs.ts";

const isRoot = Deno.uid() === 0;

// ~200 KB of output, then a pause (the recording fails meanwhile), then the marker
const NOISY =
  "for i in $(seq 1 4000); do echo line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done; sleep 2; echo done-marker";

for (const mode of ["disconnect", "continue"] as const) {
  Deno.test({
    name: `disk full under recordings_dir, on_recording_failure = ${mode}`,
    ignore: !isRoot,
    async fn() {
      const mnt = await Deno.makeTempDir({ prefix: "jh-recfull-" });
      await mountTmpfs(mnt);
      const env = await startServeEnv({
        env: { JUMPHOST_RECORDINGS_DIR: mnt, JUMPHOST_ON_RECORDING_FAILURE: mode },
      });
      try {
        await env.serve.waitFor(/"msg":"ready"/, 60_000);
        const filler = fill(mnt, 16 * 1024);
        const r = await sshWith(env.client, env.ports.ssh, "127.0.0.1", env.target, ["-tt"], [NOISY]);
        if (mode === "disconnect") {
          assert.notEqual(r.code, 0);
          assert.doesNotMatch(r.stdout, /done-marker/);
        } else {
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /done-marker/);
        }
        let rows: { actor: string; details: Record<string, string> }[] = [];
        for (let i = 0; i < 40 && rows.length === 0; i++) {
          if (i) await new Promise((res) => setTimeout(res, 250));
          rows = await env.db.sql<{ actor: string; details: Record<string, string> }[]>`
            SELECT actor, details FROM audit_log WHERE action = 'recording.failed'`;
        }
        assert.equal(rows.length, 1, JSON.stringify(rows));
        assert.equal(rows[0].actor, "wendy");
        assert.equal(rows[0].details.on_recording_failure, mode);
        assert.match(rows[0].details.error, /No space left on device|os error 28/i);
        if (mode === "disconnect") {
          let s: { termination_reason: string | null; termination_detail: string | null } | undefined;
          for (let i = 0; i < 40 && !s?.termination_reason; i++) {
            if (i) await new Promise((res) => setTimeout(res, 250));
            [s] = await env.db.sql<
              { termination_reason: string | null; termination_detail: string | null }[]
            >`
              SELECT termination_reason, termination_detail FROM sessions ORDER BY id DESC LIMIT 1`;
          }
          assert.ok(s);
          assert.equal(s.termination_reason, "error");
          assert.match(s.termination_detail ?? "", /recording failed/);
        }
        // no crash; and once space returns, sessions are recorded again
        assert.equal((await env.healthz()).status, "ok");
        Deno.removeSync(filler);
        const again = await sshWith(env.client, env.ports.ssh, "127.0.0.1", env.target, ["-tt"], [
          "echo recorded-again",
        ]);
        assert.equal(again.code, 0, again.stderr);
        const [rec] = await env.db.sql<
          { path: string }[]
        >`SELECT path FROM recordings ORDER BY id DESC LIMIT 1`;
        let text = "";
        for (let i = 0; i < 20 && !text.includes("recorded-again"); i++) {
          await new Promise((res) => setTimeout(res, 250));
          text = await Deno.readTextFile(rec.path);
        }
        assert.match(text, /recorded-again/);
        assert.equal(
          (await env.db.sql`SELECT 1 FROM audit_log WHERE action = 'recording.failed'`).length,
          1,
          "no new failure once space returned",
        );
      } finally {
        await env.close();
        await umount(mnt);
        await Deno.remove(mnt, { recursive: true }).catch(() => {});
      }
    },
  });
}
