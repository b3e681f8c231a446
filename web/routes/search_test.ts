import assert from "node:assert/strict";
import { indexSessionCommands } from "../../db/session_commands.ts";
import { addRecording } from "../../db/recordings.ts";
import { fixture, insertSession } from "../testing.ts";

Deno.test("/search: who ran it, where, when; hits open the replay at their moment; output escaped", async () => {
  const fx = await fixture();
  try {
    const s = await insertSession(fx.db.sql, {});
    const at = new Date(Date.now() - 3600_000);
    await indexSessionCommands(fx.db.sql, s.id, [
      {
        sessionRowId: s.id,
        recordingId: null,
        kind: "typed",
        at,
        offsetSeconds: 12.5,
        text: "DROP TABLE users;",
      },
      {
        sessionRowId: s.id,
        recordingId: null,
        kind: "exec",
        at,
        offsetSeconds: null,
        text: "echo '<b>x</b>'",
      },
    ]);
    const a = await fx.as("auditor");
    const hit = await a.page("/search?q=drop+table");
    assert.equal(hit.status, 200);
    assert.match(hit.html, /DROP TABLE users;/);
    assert.match(
      hit.html,
      new RegExp(`href="/sessions/${s.session_id}\\?t=11\\.5"`),
      "a second before the line",
    );
    const esc = await a.page("/search?q=%3Cb%3E");
    assert.match(esc.html, /<code>echo '&lt;b>x&lt;\/b>'<\/code>/);
    assert.doesNotMatch(esc.html, /<b>x<\/b>/);
    assert.match((await a.page("/search?q=nothing-like-it")).html, /Nothing matches/);
    assert.match((await a.page("/search?q=zq")).html, /at least 3 characters/);
    // within the chosen window (an hour ago is within one day)
    assert.match((await a.page("/search?q=drop&days=1")).html, /DROP TABLE/);
    // the session page starts its player there
    const detail = await a.page(`/sessions/${s.session_id}?t=11.5`);
    assert.equal(detail.status, 200);

    // an RDP hit (a line typed on the desktop, a clipboard text): the session page with the recording's
    // player starting a second before it
    const r = await insertSession(fx.db.sql, { protocol: "rdp", server_name: "win1" });
    const rec = await addRecording(fx.db.sql, {
      sessionRowId: r.id,
      kind: "rdp",
      channel: "connection-1",
      path: "/nonexistent/r.jhrdp",
    });
    await indexSessionCommands(fx.db.sql, r.id, [
      {
        sessionRowId: r.id,
        recordingId: rec,
        kind: "keys",
        at,
        offsetSeconds: 42,
        text: "net user eve /add",
      },
      {
        sessionRowId: r.id,
        recordingId: rec,
        kind: "clipboard",
        at,
        offsetSeconds: 50,
        text: "clip-needle-9",
      },
    ]);
    const rdp = await a.page("/search?q=net+user");
    assert.match(rdp.html, /typed \(RDP\)/);
    assert.match(rdp.html, new RegExp(`href="/sessions/${r.session_id}\\?t=41\\.0&amp;rec=${rec}"`));
    assert.match((await a.page("/search?q=clip-needle")).html, /clipboard \(RDP\)/);
    const rdpPage = await a.page(`/sessions/${r.session_id}?t=41.0&rec=${rec}`);
    assert.equal(rdpPage.status, 200);
    assert.match(rdpPage.html, new RegExp(`id="rdp-player-${rec}"[^>]*data-start-ms="41000"`));
    // no moment asked: no start
    assert.doesNotMatch((await a.page(`/sessions/${r.session_id}`)).html, /data-start-ms/);
  } finally {
    await fx.close();
  }
});
