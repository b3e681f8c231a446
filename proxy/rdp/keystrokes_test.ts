import assert from "node:assert/strict";
import type { InputEvent } from "./pdu/mod.ts";
import { KeystrokeLog } from "./keystrokes.ts";
import type { MetaEvent } from "./meta_events.ts";

const now = () => new Date("2025-06-01T12:00:00Z");
const key = (keyCode: number, release = false): InputEvent => ({
  type: "scancode",
  keyCode,
  release,
  extended: false,
  extended1: false,
});
/** Press and release, as a keyboard does. */
const tap = (...codes: number[]) => codes.flatMap((c) => [key(c), key(c, true)]);
const SHIFT = 0x2a;
// set-1 scancodes: s=0x1f e=0x12 c=0x2e r=0x13 t=0x14, 1=0x02, Enter=0x1c, l=0x26
const SECRET = tap(0x1f, 0x12, 0x2e, 0x13, 0x12, 0x14, 0x02);

Deno.test("KeystrokeLog counts keys before logon but never turns them into text", () => {
  const events: MetaEvent[] = [];
  const log = new KeystrokeLog((e) => events.push(e), now);
  assert.equal(log.input(SECRET), true);
  log.input([{ type: "mouse", pointerFlags: 0x800, x: 5, y: 5 }]);
  log.flush();
  assert.deepEqual(events, [{ type: "keys_redacted", at: now().toISOString(), count: 7 }]);
  assert.ok(!JSON.stringify(events).includes("secret"));
});

Deno.test("KeystrokeLog logs text after a Save Session Info logon, flushing at Enter", () => {
  const events: MetaEvent[] = [];
  const log = new KeystrokeLog((e) => events.push(e), now);
  log.input(SECRET);
  log.logon("save_session_info");
  log.input([...tap(0x26, 0x1f), key(SHIFT), ...tap(0x02), key(SHIFT, true), ...tap(0x1c)]);
  assert.deepEqual(events.map((e) => e.type), ["keys_redacted", "logon", "keys"]);
  assert.deepEqual(events[2], { type: "keys", at: now().toISOString(), text: "ls!<Enter>" });
});

Deno.test("KeystrokeLog: nothing but Save Session Info means logged on", () => {
  const events: MetaEvent[] = [];
  const log = new KeystrokeLog((e) => events.push(e), now);
  // activation with an autologon client used to count: typing on the logon screen after it stays redacted
  log.input(SECRET);
  log.flush();
  assert.ok(!log.loggedOn);
  assert.deepEqual(events, [{ type: "keys_redacted", at: now().toISOString(), count: 7 }]);
  assert.ok(!JSON.stringify(events).includes("secret"));
});

Deno.test("KeystrokeLog uses the client's keyboard layout", () => {
  const events: MetaEvent[] = [];
  const log = new KeystrokeLog((e) => events.push(e), now, 0x0809); // UK
  log.logon("save_session_info");
  log.input([key(SHIFT), ...tap(0x03), key(SHIFT, true)]); // Shift+2 is " on a UK keyboard
  log.flush();
  const last = events.at(-1);
  assert.ok(last?.type === "keys" && last.text === '"', JSON.stringify(last));
});
