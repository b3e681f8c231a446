import assert from "node:assert/strict";
import { EchoMask, splitKeys, visibleText } from "./echo_mask.ts";

/** Runs a trace of [ms, "i"|"o", text] through a mask; returns what the recording keeps as input. */
function run(trace: [number, "i" | "o" | "tick", string][]): string {
  let kept = "";
  const m = new EchoMask((t) => kept += t, { minWaitMs: 400 });
  for (const [at, kind, text] of trace) {
    if (kind === "i") m.typed(text, at);
    else if (kind === "o") m.output(text, at);
    else m.tick(at);
  }
  m.flush();
  return kept;
}

Deno.test("echo mask: keys a shell echoes are kept as typed", () => {
  assert.equal(
    run([[0, "i", "l"], [2, "o", "l"], [50, "i", "s"], [51, "o", "s"], [90, "i", "\r"], [
      91,
      "o",
      "\r\nfile\r\n$ ",
    ]]),
    "ls\r",
  );
});

Deno.test("echo mask: keys typed where nothing echoes (a password) are masked, one * per character", () => {
  // `read -s`: no prompt text, no echo
  assert.equal(
    run([[0, "i", "s"], [30, "i", "3"], [60, "i", "€"], [500, "tick", ""], [600, "i", "\r"], [
      601,
      "o",
      "\r\n",
    ]]),
    "***\r",
  );
});

Deno.test("echo mask: a prompt asking for a secret masks at once, until Enter", () => {
  const kept = run([
    [0, "o", "[sudo] password for alice: "],
    [10, "i", "hunter2"],
    [20, "i", "\r"],
    [30, "o", "\r\nroot\r\n$ "],
    [40, "i", "i"],
    [41, "o", "i"],
  ]);
  assert.equal(kept, "*******\ri");
  for (const p of ["Password:", "New password: ", "Retype new password: ", "Enter passphrase for key: "]) {
    assert.equal(run([[0, "o", p], [5, "i", "x"], [6, "o", "x"]]), "*", p);
  }
});

Deno.test("echo mask: a password's characters in the output after Enter are no echo (the barrier)", () => {
  // no prompt text recognised, the secret typed and entered fast, then output containing its letters
  const kept = run([[0, "i", "root"], [5, "i", "\r"], [10, "o", "\r\nroot\r\n"]]);
  assert.equal(kept, "****\r");
});

Deno.test("echo mask: a pasted line with its Enter is kept when its echo comes first", () => {
  assert.equal(
    run([[0, "i", "stty size; echo x\r"], [3, "o", "stty size; echo x\r\n30 100\r\nx\r\n"]]),
    "stty size; echo x\r",
  );
  // the same paste where nothing echoes (a password pasted at a silent prompt)
  assert.equal(run([[0, "i", "s3cret\r"], [3, "o", "\r\nok s3cret\r\n"]]), "******\r");
});

Deno.test("echo mask: an echo in escape sequences and a slow link within the wait are kept", () => {
  assert.equal(run([[0, "i", "a"], [300, "o", "\x1b[?25l\x1b[1;5Ha\x1b[?25h"]]), "a");
  assert.equal(run([[0, "i", "ab"], [10, "o", "a"], [20, "o", "b"]]), "ab", "a pasted run echoed in pieces");
});

Deno.test("echo mask: control keys pass at once; an editing key in vim's normal mode is masked", () => {
  assert.equal(run([[0, "i", "\x1b[A"], [1, "i", "\x03"]]), "\x1b[A\x03");
  assert.equal(run([[0, "i", "d"], [10, "i", "d"], [20, "o", "\x1b[5;1H\x1b[K"], [500, "tick", ""]]), "**");
});

Deno.test("splitKeys and visibleText", () => {
  assert.deepEqual(splitKeys("ab\x1b[Ac\r"), [
    { text: "ab", printable: true },
    { text: "\x1b[A", printable: false },
    { text: "c", printable: true },
    { text: "\r", printable: false },
  ]);
  assert.equal(visibleText("\x1b[1mbold\x1b[0m\r\n\x1b]0;title\x07x"), "bold\nx");
});
