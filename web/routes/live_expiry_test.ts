// Route tests: long-lived responses end when the console session that opened them ends. The live view:
// idle or absolute expiry (driven by the fixture's clock), logout (at once), or the session row
// disappearing (a logout on another appliance sharing the database). The audit export: cut short.
import assert from "node:assert/strict";
import { join } from "node:path";
import { deleteConsoleSession, hashToken } from "../../db/console_sessions.ts";
import type { AuthLimits } from "../auth.ts";
import { type Client, type Fixture, fixture, insertSession } from "../testing.ts";

const CAST = '{"version": 2, "width": 80, "height": 24, "timestamp": 1}\n[0.1, "o", "$ "]\n';

interface Live {
  fx: Fixture;
  client: Client;
  path: string;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  acc: { text: string; done: boolean };
  close(): Promise<void>;
}

async function openLive(limits: Partial<AuthLimits>): Promise<Live> {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir, limits });
  const path = join(dir, "live.cast");
  await Deno.writeTextFile(path, CAST);
  const s = await insertSession(fx.db.sql, { active: true, recording_path: path });
  const client = await fx.as("auditor");
  const res = await client.get(`/sessions/${s.session_id}/live`, { Accept: "text/event-stream" });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const acc = { text: "", done: false };
  await readUntil(reader, acc, /event: o\ndata: "\$ "/);
  return {
    fx,
    client,
    path,
    reader,
    acc,
    async close() {
      await reader.cancel().catch(() => {});
      await fx.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads SSE frames until `until` matches or the stream ends; throws after `ms`. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  acc: { text: string; done: boolean },
  until: RegExp,
  ms = 3000,
) {
  const dec = new TextDecoder();
  const deadline = Date.now() + ms;
  while (!until.test(acc.text) && !acc.done) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`timed out waiting for ${until}; got ${JSON.stringify(acc.text.slice(-300))}`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      reader.read(),
      new Promise<null>((res) => timer = setTimeout(() => res(null), left)),
    ]);
    clearTimeout(timer);
    if (r === null) continue;
    if (r.done) acc.done = true;
    else acc.text += dec.decode(r.value, { stream: true });
  }
}

/** Waits for the stream to close after a logged_out event, and checks it never said "end". */
async function expectCut(live: Live, reason: string, ms: number) {
  const t0 = performance.now();
  await readUntil(live.reader, live.acc, new RegExp(`event: logged_out\\ndata: "${reason}"`), ms);
  assert.match(live.acc.text, new RegExp(`event: logged_out\\ndata: "${reason}"`));
  await readUntil(live.reader, live.acc, /$^/, 2000); // to the end of the stream
  assert.ok(live.acc.done, "the stream closed");
  assert.doesNotMatch(live.acc.text, /event: end/);
  return performance.now() - t0;
}

Deno.test("live view: the stream ends when the console session idles out, not before", async () => {
  const live = await openLive({ recheckMs: 100 });
  try {
    // several re-checks pass while the session is valid: output still flows
    await new Promise((r) => setTimeout(r, 400));
    await Deno.writeTextFile(live.path, '[1.0, "o", "still here"]\n', { append: true });
    await readUntil(live.reader, live.acc, /data: "still here"/);
    // 31 minutes later by the console's clock (the stream itself does not count as activity)
    live.fx.clock.now = new Date(live.fx.clock.now.getTime() + 31 * 60_000);
    await expectCut(live, "expired", 3000);
    // and the session is gone: the next page is a login redirect
    const r = await live.client.get("/");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    assert.match(r.headers.get("Location")!, /^\/login\?expired=1/);
  } finally {
    await live.close();
  }
});

Deno.test("live view: the stream ends at the absolute session limit even with recent activity", async () => {
  const live = await openLive({ recheckMs: 100, absoluteMs: 60 * 60_000 });
  try {
    const start = live.fx.clock.now.getTime();
    // activity every 20 minutes keeps the idle clock fresh (touches are written at most every 10 s)
    for (const m of [20, 40]) {
      live.fx.clock.now = new Date(start + m * 60_000);
      assert.equal((await live.client.page("/")).status, 200);
    }
    await Deno.writeTextFile(live.path, '[1.0, "o", "at 40 min"]\n', { append: true });
    await readUntil(live.reader, live.acc, /data: "at 40 min"/);
    live.fx.clock.now = new Date(start + 61 * 60_000);
    await expectCut(live, "expired", 3000);
  } finally {
    await live.close();
  }
});

Deno.test("live view: logging out ends an open stream at once (before the periodic re-check)", async () => {
  const live = await openLive({ recheckMs: 60_000 });
  try {
    const r = await live.client.post("/logout");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const ms = await expectCut(live, "logged_out", 2000);
    assert.ok(ms < 1000, `took ${ms} ms`);
  } finally {
    await live.close();
  }
});

Deno.test("live view: a session removed elsewhere (another node's logout) ends the stream within the re-check", async () => {
  const live = await openLive({ recheckMs: 200 });
  try {
    const token = live.client.cookies.get("jh_session")!;
    await deleteConsoleSession(live.fx.db.sql, hashToken(token));
    const ms = await expectCut(live, "expired", 3000);
    assert.ok(ms < 2000, `took ${ms} ms`);
  } finally {
    await live.close();
  }
});

Deno.test("audit export: a long export stops, visibly incomplete, once the console session expires", async () => {
  const fx = await fixture({ limits: { recheckMs: 0 } });
  try {
    await fx.db.sql`INSERT INTO audit_log (actor, action, target, success)
      SELECT 'cli:test', 'user.create', 'u' || g, true FROM generate_series(1, 4500) g`;
    const a = await fx.as("auditor");
    // while the session is valid the whole log comes out
    const full = await (await a.get("/audit/export.csv?actor=cli:test")).text();
    assert.equal(full.trim().split("\n").length, 4501);

    const res = await a.get("/audit/export.csv?actor=cli:test");
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = dec.decode((await reader.read()).value);
    fx.clock.now = new Date(fx.clock.now.getTime() + 31 * 60_000);
    await assert.rejects(async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += dec.decode(r.value);
      }
    }, /console session ended/);
    assert.ok(text.split("\n").length < 4501, "the export was cut short");
  } finally {
    await fx.close();
  }
});

Deno.test("live view: deleting the console user ends their open stream at once", async () => {
  const live = await openLive({ recheckMs: 60_000 });
  try {
    const admin = await live.fx.as("admin", "root");
    const r = await admin.post("/console-users/auditor/delete");
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const ms = await expectCut(live, "revoked", 2000);
    assert.ok(ms < 1000, `took ${ms} ms`);
  } finally {
    await live.close();
  }
});
