// Route tests: session history, detail, kill, asciicast download, live view over SSE.
import assert from "node:assert/strict";
import { join } from "node:path";
import { listAudit } from "../../db/audit.ts";
import { closeSession } from "../../db/sessions.ts";
import { fixture, insertSession } from "../testing.ts";

Deno.test("sessions list: filters, inline filter errors, keyset pages without gaps or repeats", async () => {
  const fx = await fixture();
  try {
    const a = await fx.as("auditor");
    await insertSession(fx.db.sql, { user_name: "bob", protocol: "rdp", server_name: "win1" });
    await insertSession(fx.db.sql, { user_name: "bob", active: true });
    for (let i = 0; i < 118; i++) {
      await insertSession(fx.db.sql, { user_name: "alice", reason: i % 2 ? "normal" : "killed" });
    }

    const rdp = await a.page("/sessions?protocol=rdp");
    assert.equal((rdp.html.match(/data-session="/g) ?? []).length, 1);
    const active = await a.page("/sessions?status=active");
    assert.equal((active.html.match(/data-session="/g) ?? []).length, 1);
    assert.match(active.html, />bob</);
    const killed = await a.page("/sessions?status=killed&user=alice");
    assert.equal((killed.html.match(/data-session="/g) ?? []).length, 50);
    const text = await a.page("/sessions?q=win");
    assert.equal((text.html.match(/data-session="/g) ?? []).length, 1);

    const bad = await a.page("/sessions?from=yesterday&protocol=telnet&user=bob");
    assert.equal(bad.status, 400);
    assert.match(bad.html, /use YYYY-MM-DD/);
    assert.match(bad.html, /value="yesterday"/);
    assert.match(bad.html, /choose one of ssh, rdp/);

    const seen: string[] = [];
    let url: string | null = "/sessions";
    let pages = 0;
    while (url) {
      const p = await a.page(url);
      seen.push(...[...p.html.matchAll(/data-session="([^"]+)"/g)].map((m) => m[1]));
      url = /id="next-page" href="([^"]+)"/.exec(p.html)?.[1].replaceAll("&amp;", "&") ?? null;
      pages++;
    }
    assert.equal(pages, 3);
    assert.equal(seen.length, 120);
    assert.equal(new Set(seen).size, 120);
    const filtered = await a.page("/sessions?user=alice&after=999999999");
    assert.equal((filtered.html.match(/data-session="/g) ?? []).length, 0);
  } finally {
    await fx.close();
  }
});

Deno.test("session detail, kill by an operator (audited), auditors cannot kill", async () => {
  const fx = await fixture();
  try {
    const live = await insertSession(fx.db.sql, {
      active: true,
      user_name: "carol",
      source_ip: "198.51.100.4",
    });
    const aud = await fx.as("auditor");
    const page = await aud.page(`/sessions/${live.session_id}`);
    assert.equal(page.status, 200);
    assert.match(page.html, /198\.51\.100\.4/);
    assert.doesNotMatch(page.html, /id="kill"/);
    const denied = await aud.post(`/sessions/${live.session_id}/kill`);
    await denied.body?.cancel();
    assert.equal(denied.status, 403);
    assert.deepEqual(fx.killed, []);

    const op = await fx.as("operator", "opal");
    assert.match((await op.page(`/sessions/${live.session_id}`)).html, /id="kill"/);
    const k = await op.post(`/sessions/${live.session_id}/kill`);
    await k.body?.cancel();
    assert.equal(k.status, 303);
    assert.equal(k.headers.get("Location"), `/sessions/${live.session_id}?killed=1`);
    assert.deepEqual(fx.killed, [live.session_id]);
    const after = await op.page(`/sessions/${live.session_id}?killed=1`);
    assert.match(after.html, /told to end/);
    assert.match(after.html, /killed/);
    const [ev] = await listAudit(fx.db.sql, { action: "session.kill" });
    assert.equal(ev.actor, "console:opal");
    assert.equal(ev.target, live.session_id);
    assert.equal(ev.success, true);
    assert.equal((await op.page("/sessions/no-such-session")).status, 404);
  } finally {
    await fx.close();
  }
});

Deno.test("asciicast download and replay page; files outside the recordings directory are refused", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir });
  try {
    const cast = '{"version": 2, "width": 80, "height": 24, "timestamp": 1}\n[0.5, "o", "hello\\r\\n"]\n';
    const path = join(dir, "s1.cast");
    await Deno.writeTextFile(path, cast);
    const s = await insertSession(fx.db.sql, { recording_path: path });
    const a = await fx.as("auditor");
    const page = await a.page(`/sessions/${s.session_id}`);
    assert.match(page.html, /data-player data-src="\/sessions\/[^"]+\/cast"/);
    assert.match(page.html, /asciinema-player\.min\.js/);
    const dl = await a.get(`/sessions/${s.session_id}/cast?download=1`);
    assert.equal(dl.status, 200);
    assert.match(dl.headers.get("Content-Disposition")!, /attachment; filename="session-[^"]+\.cast"/);
    assert.equal(await dl.text(), cast);
    const view = await a.get(`/sessions/${s.session_id}/cast`);
    assert.equal(await view.text(), cast);
    // every read of the recording is audited: who, which session, how
    const reads = await fx.db.sql<{ actor: string; target: string; details: Record<string, unknown> }[]>`
      SELECT actor, target, details FROM audit_log WHERE action = 'recording.download' ORDER BY id`;
    assert.deepEqual(reads.map((r) => [r.target, r.details.format, r.details.via]), [
      [s.session_id, "asciicast", "download"],
      [s.session_id, "asciicast", "view"],
    ]);
    assert.ok(reads.every((r) => r.actor === reads[0].actor && r.actor.length > 0));

    const evilPath = join(outside, "secret.cast");
    await Deno.writeTextFile(evilPath, "secret");
    const evil = await insertSession(fx.db.sql, { recording_path: evilPath });
    const r = await a.get(`/sessions/${evil.session_id}/cast`);
    assert.equal(r.status, 404);
    assert.doesNotMatch(await r.text(), /secret"/);
    await Deno.symlink(evilPath, join(dir, "link.cast"));
    const linked = await insertSession(fx.db.sql, { recording_path: join(dir, "link.cast") });
    const r2 = await a.get(`/sessions/${linked.session_id}/cast`);
    assert.equal(r2.status, 404);
    await r2.body?.cancel();
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

/** Reads SSE frames until `until` matches the accumulated text or the deadline passes. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  acc: { text: string },
  until: RegExp,
  ms = 3000,
) {
  const dec = new TextDecoder();
  const deadline = Date.now() + ms;
  while (!until.test(acc.text)) {
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
    if (r.done) break;
    acc.text += dec.decode(r.value, { stream: true });
  }
}

Deno.test("live view streams new terminal output within a second and ends with the session", async () => {
  const dir = await Deno.makeTempDir();
  const fx = await fixture({ recordingsDir: dir });
  try {
    const path = join(dir, "live.cast");
    await Deno.writeTextFile(
      path,
      '{"version": 2, "width": 100, "height": 30, "timestamp": 1}\n[0.1, "o", "$ "]\n[0.2, "i", "secret-typed"]\n',
    );
    const s = await insertSession(fx.db.sql, { active: true, recording_path: path });
    const a = await fx.as("auditor");
    const page = await a.page(`/sessions/${s.session_id}`);
    assert.match(page.html, /data-live-term data-src="\/sessions\/[^"]+\/live"/);
    assert.match(page.html, /xterm\.js/);

    const res = await a.get(`/sessions/${s.session_id}/live`, { Accept: "text/event-stream" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "text/event-stream");
    const reader = res.body!.getReader();
    const acc = { text: "" };
    await readUntil(reader, acc, /event: o\ndata: "\$ "/);
    assert.match(acc.text, /event: header\ndata: \{"width":100,"height":30\}/);
    assert.doesNotMatch(acc.text, /secret-typed/, "keystrokes are not streamed");

    const t0 = performance.now();
    await Deno.writeTextFile(path, '[1.5, "o", "ls -l\\r\\n"]\n[1.6, "r", "120x40"]\n', { append: true });
    await readUntil(reader, acc, /event: r\ndata: "120x40"/);
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
    assert.match(acc.text, /data: "ls -l\\r\\n"/);

    await closeSession(fx.db.sql, s.id, {
      reason: "normal",
      detail: null,
      recordingPath: path,
      recordingSize: null,
      endedAt: new Date(),
    });
    await readUntil(reader, acc, /event: end/, 5000);
    await reader.cancel();
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
