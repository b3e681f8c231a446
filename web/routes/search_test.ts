import assert from "node:assert/strict";
import { indexSessionCommands } from "../../db/session_commands.ts";
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
    assert.match((await a.page("/search?q=nothing-like-it")).html, /No command matches/);
    assert.match((await a.page("/search?q=zq")).html, /at least 3 characters/);
    // within the chosen window (an hour ago is within one day)
    assert.match((await a.page("/search?q=drop&days=1")).html, /DROP TABLE/);
    // the session page starts its player there
    const detail = await a.page(`/sessions/${s.session_id}?t=11.5`);
    assert.equal(detail.status, 200);
  } finally {
    await fx.close();
  }
});
