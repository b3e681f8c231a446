import assert from "node:assert/strict";
import {
  EchoMask,
  isSecretPrompt,
  MASK_MARKER,
  type MaskedEvent,
  maskInput,
  splitKeys,
} from "./echo_mask.ts";

const assertEquals = (a: unknown, b: unknown, m?: string) => assert.deepEqual(a, b, m);

/** a trace step: at ms, input (i), output (o), a resize (r), or the clock passing (t) */
type Step = [number, "i" | "o" | "r" | "t", string?];

function run(steps: Step[], windowMs = 500): { events: MaskedEvent[]; input: string } {
  const m = new EchoMask(windowMs);
  const events: MaskedEvent[] = [];
  for (const [at, kind, data = ""] of steps) {
    if (kind === "i") events.push(...m.input(at, data));
    else if (kind === "o") events.push(...m.output(at, data));
    else if (kind === "r") events.push(...m.other(at, "r", data));
    else events.push(...m.tick(at));
  }
  events.push(...m.flush());
  const input = events.filter((e) => e.code === "i").map((e) => e.data).join("");
  return { events, input };
}

const TRACES: { name: string; steps: Step[]; input: string }[] = [
  {
    name: "shell: keystrokes echoed one by one are kept",
    steps: [[0, "i", "l"], [20, "o", "l"], [100, "i", "s"], [120, "o", "s"], [200, "i", "\r"], [
      220,
      "o",
      "\r\n",
    ]],
    input: "ls\r",
  },
  {
    name: "sudo: a password typed at a prompt that does not echo is masked, Enter kept",
    steps: [
      [0, "o", "[sudo] password for alice: "],
      [100, "i", "h"],
      [200, "i", "u"],
      [300, "i", "n"],
      [400, "i", "\r"],
      [420, "o", "\r\n"],
      [450, "o", "root\r\n"],
    ],
    input: "***\r",
  },
  {
    name: "no prompt text, no echo: masked when the window passes",
    steps: [[0, "o", "token> "], [100, "i", "s3"], [700, "t"], [800, "i", "\r"], [820, "o", "\r\n"]],
    input: "**\r",
  },
  {
    name: "pasted secret and Enter in one event, followed by output: masked",
    steps: [[0, "o", "Enter password: "], [100, "i", "hunter2\r"], [
      130,
      "o",
      "\nhunter2-is-in-the-output\n",
    ]],
    input: "*******\r",
  },
  {
    name: "paste without a prompt: output that is not the echo masks it",
    steps: [[0, "o", "> "], [100, "i", "abc\r"], [130, "o", "\r\nwelcome\r\n"]],
    input: "***\r",
  },
  {
    name: "fast typist: several characters in one event echoed together are kept",
    steps: [[0, "i", "echo hi"], [30, "o", "echo hi"], [40, "i", "\r"], [60, "o", "\r\nhi\r\n$ "]],
    input: "echo hi\r",
  },
  {
    name: "echo split over packets and wrapped in colour escapes is still the echo",
    steps: [[0, "i", "git"], [30, "o", "\x1b[1mg"], [31, "o", "i\x1b[0m"], [32, "o", "\x1b]0;title\x07t"]],
    input: "git",
  },
  {
    name: "line editing: arrows, backspace and Ctrl-U are kept as keys; the insert is echoed with the rest",
    steps: [
      [0, "i", "ab"],
      [10, "o", "ab"],
      [20, "i", "\x1b[D"],
      [30, "o", "\b"],
      [40, "i", "X"],
      [50, "o", "Xb\b"],
      [60, "i", "\x7f"],
      [70, "o", "\b\x1b[K"],
      [80, "i", "\x15"],
    ],
    input: "ab\x1b[DX\x7f\x15",
  },
  {
    name: "a line editor wrapping a long paste writes its own space: still echoed",
    steps: [[0, "i", "abcdef"], [20, "o", "abc \rdef"]],
    input: "abcdef",
  },
  {
    name: "type-ahead before the password prompt: typed while echo was already off, masked",
    steps: [
      [0, "i", "sudo id\r"],
      [20, "o", "sudo id\r\n"],
      [25, "i", "pw"],
      [60, "o", "[sudo] password for alice: "],
      [100, "i", "\r"],
    ],
    input: "sudo id\r**\r",
  },
  {
    name: "type-ahead echoed by the terminal (ECHO still on) is kept",
    steps: [[0, "i", "sleep 1\r"], [10, "o", "sleep 1\r\n"], [20, "i", "ls"], [30, "o", "ls"]],
    input: "sleep 1\rls",
  },
  {
    name: "a prompt forces the mask even if the output happens to echo",
    steps: [[0, "o", "Password: "], [10, "i", "x"], [20, "o", "x"]],
    input: "*",
  },
  {
    name: "passwd: current, new and retyped passwords all masked",
    steps: [
      [0, "o", "Changing password for bob.\r\nCurrent password: "],
      [10, "i", "old1\r"],
      [30, "o", "\r\nNew password: "],
      [40, "i", "new2\r"],
      [60, "o", "\r\nRetype new password: "],
      [70, "i", "new2\r"],
      [90, "o", "\r\npasswd: password updated successfully\r\n"],
    ],
    input: "****\r****\r****\r",
  },
  {
    name: "sudo with pwfeedback prints a * per key: not the echo, masked",
    steps: [[0, "o", "[sudo] password for a: "], [10, "i", "p"], [20, "o", "*"], [30, "i", "w"], [
      40,
      "o",
      "*",
    ]],
    input: "**",
  },
  {
    name: "vim: normal-mode keys are not echoed literally: masked (documented); Escape kept",
    steps: [[0, "o", "\x1b[?1049h~\r\n~"], [10, "i", "j"], [20, "o", "\x1b[2;1H"], [600, "t"], [
      700,
      "i",
      "\x1b",
    ]],
    input: "*\x1b",
  },
  {
    name: "in-flight output before the echo masks (errs towards masking)",
    steps: [[0, "i", "q"], [5, "o", "64 bytes from host\r\n"], [10, "o", "q"]],
    input: "*",
  },
  {
    name: "bracketed paste markers are keys, the pasted text echoed is kept",
    steps: [[0, "i", "\x1b[200~ls -l\x1b[201~"], [10, "o", "ls -l"]],
    input: "\x1b[200~ls -l\x1b[201~",
  },
  {
    name: "UTF-8 typed and echoed is kept; not echoed is one mask per character",
    steps: [[0, "i", "é"], [10, "o", "é"], [20, "o", "Passphrase: "], [30, "i", "日本"]],
    input: "é**",
  },
  {
    name: "read -s: no prompt text, no echo, masked one * per character",
    steps: [[0, "i", "s"], [30, "i", "3"], [60, "i", "€"], [500, "t"], [600, "i", "\r"], [601, "o", "\r\n"]],
    input: "***\r",
  },
  {
    name: "a secret entered fast, then output starting with its letters after a new line: masked",
    steps: [[0, "i", "root"], [5, "i", "\r"], [10, "o", "\r\nroot\r\n"]],
    input: "****\r",
  },
  {
    name: "a pasted line with its Enter is kept when its echo comes first",
    steps: [[0, "i", "stty size; echo x\r"], [3, "o", "stty size; echo x\r\n30 100\r\nx\r\n"]],
    input: "stty size; echo x\r",
  },
  {
    name: "an echo in escape sequences on a slow link within the window is kept",
    steps: [[0, "i", "a"], [300, "o", "\x1b[?25l\x1b[1;5Ha\x1b[?25h"]],
    input: "a",
  },
  {
    name: "end of the recording with an input undecided: masked",
    steps: [[0, "i", "secret"]],
    input: "******",
  },
];

for (const t of TRACES) {
  Deno.test(`EchoMask: ${t.name}`, () => {
    assertEquals(JSON.stringify(run(t.steps).input), JSON.stringify(t.input));
  });
}

Deno.test("EchoMask keeps the order of events and each event's original time", () => {
  const { events } = run([
    [0, "o", "Password: "],
    [10, "i", "a"],
    [100, "o", "\r\n"],
    [110, "i", "l"],
    [120, "r", "100x30"],
    [130, "o", "l"],
    [140, "o", "more"],
  ]);
  assertEquals(events.map((e) => [e.at, e.code, e.data]), [
    [0, "o", "Password: "],
    [10, "m", MASK_MARKER],
    [10, "i", "*"],
    [100, "o", "\r\n"],
    [110, "i", "l"],
    [120, "r", "100x30"],
    [130, "o", "l"],
    [140, "o", "more"],
  ]);
});

Deno.test("EchoMask marks each prompt's masked input once on the timeline", () => {
  const { events } = run([
    [0, "o", "Current password: "],
    [10, "i", "a"],
    [20, "i", "b"],
    [30, "i", "\r"],
    [40, "o", "\r\n"],
    [50, "o", "New password: "],
    [60, "i", "cd\r"],
    [70, "o", "\r\n$ "],
    [80, "i", "x"],
    [90, "o", "x"],
  ]);
  assert.deepEqual(events.filter((e) => e.code !== "o").map((e) => [e.at, e.code, e.data]), [
    [10, "m", MASK_MARKER],
    [10, "i", "*"],
    [20, "i", "*"],
    [30, "i", "\r"],
    [60, "m", MASK_MARKER],
    [60, "i", "**\r"],
    [80, "i", "x"],
  ]);
});

Deno.test("EchoMask holds events behind an undecided input and releases them when it times out", () => {
  const m = new EchoMask(500);
  assertEquals(m.input(0, "x"), []);
  assertEquals(m.other(10, "r", "80x24"), []);
  assertEquals(m.nextDeadline, 500);
  assertEquals(m.tick(499), []);
  assertEquals(m.tick(500).map((e) => e.data), [MASK_MARKER, "*", "80x24"]);
  assertEquals(m.holding, false);
  assertEquals(m.nextDeadline, null);
});

Deno.test("EchoMask: an escape sequence split across output chunks is skipped whole", () => {
  const m = new EchoMask(500);
  m.input(0, "m");
  assertEquals(m.output(5, "\x1b[3").length, 0);
  assertEquals(m.output(6, "1mm").map((e) => [e.code, e.data]), [["i", "m"], ["o", "\x1b[3"], ["o", "1mm"]]);
});

Deno.test("isSecretPrompt() knows the usual prompts and not a shell prompt", () => {
  for (
    const p of [
      "[sudo] password for alice: ",
      "Password:",
      "Enter password: ",
      "Current password: ",
      "Retype new password: ",
      "Enter passphrase for key '/home/a/.ssh/id_ed25519': ",
      "Verification code: ",
      "Password: ***",
      "alice@db's password: ",
    ]
  ) assertEquals(isSecretPrompt(p), true, p);
  for (
    const p of ["alice@web1:~$ ", "mysql> ", "password changed.", "passwd: password updated successfully"]
  ) {
    assertEquals(isSecretPrompt(p), false, p);
  }
});

Deno.test("splitKeys() and maskInput(): escape sequences are one key, printable characters masked", () => {
  assertEquals(splitKeys("a\x1b[1;5Cb\x1bOA").map((k) => [k.text, k.printable]), [
    ["a", true],
    ["\x1b[1;5C", false],
    ["b", true],
    ["\x1bOA", false],
  ]);
  assertEquals(maskInput("pw d\r\x7f\x03\x1b[A"), "****\r\x7f\x03\x1b[A");
});

Deno.test("EchoMask: the prompt signal agrees with a plain reading of the line, for random output chunks", () => {
  // the reference: escape sequences removed, the text after the last line break, backspaces applied,
  // control characters dropped — what #scan keeps, by its fast path or its loop
  // deno-lint-ignore no-control-regex
  const ESC = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|.)/g;
  const reference = (all: string) => {
    const plain = all.replace(ESC, "");
    let line = "";
    for (const ch of plain) {
      if (ch === "\n" || ch === "\r") line = "";
      else if (ch === "\b") line = line.slice(0, -1);
      else if (ch.codePointAt(0)! >= 0x20 && ch !== "\x7f") line += ch;
    }
    return line;
  };
  const pieces = [
    "Password: ",
    "Passwort",
    "x",
    "ab c",
    "\n",
    "\r\n",
    "\r",
    "\x1b[1m",
    "\x1b]0;title\x07",
    "\b",
    "\t",
    ": ",
    "é",
  ];
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let trial = 0; trial < 2000; trial++) {
    const mask = new EchoMask();
    const chunks = Array.from(
      { length: 1 + rnd(4) },
      () =>
        Array.from({ length: 1 + rnd(6) }, () => pieces[rnd(pieces.length)]).join("").repeat(
          1 + rnd(3) * rnd(60),
        ),
    );
    let t = 0;
    for (const c of chunks) mask.output(t++, c);
    const immediate = mask.input(t, "abc").filter((e) => e.code === "i");
    const all = chunks.join("");
    assertEquals(immediate.length === 1, isSecretPrompt(reference(all)), JSON.stringify(all.slice(-120)));
    if (immediate.length) assertEquals(immediate[0].data, "***");
  }
});

Deno.test("EchoMask: a prompt split across output chunks still masks (fast and escape-sequence paths)", () => {
  for (
    const chunks of [["[sudo] pass", "word for bob: "], ["\x1b[1m[sudo] pass", "word for bob: "], [
      "Pass",
      "\x1b[0mword: ",
    ]]
  ) {
    const mask = new EchoMask();
    chunks.forEach((c, i) => mask.output(i, c));
    assertEquals(mask.input(5, "hunter2").filter((e) => e.code === "i").map((e) => e.data), ["*******"]);
  }
});
