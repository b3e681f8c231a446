import assert from "node:assert/strict";
import { castEvents, typedLines } from "./typed_lines.ts";

const i = (at: number, data: string): [number, string, string] => [at, "i", data];

Deno.test("typedLines follows line editing and leaves out masked passwords", () => {
  assert.deepEqual(
    typedLines([
      i(1, "l"),
      i(1.1, "s"),
      [1.2, "o", "ls"],
      i(1.3, "\r"),
      i(2, "rm -rf /tmpx\x7f"),
      i(2.5, "\r"),
      i(3, "echo secret\x15echo fine\r"),
      i(4, "git commit -m wip\x17done\r"),
      i(5, "sudo id\r"),
      i(6, "********\r"),
      i(7, "sleep 100\x03"),
      i(8, "\x1b[Acat /etc/hosts\r"),
      i(9, "   \r"),
    ]),
    [
      { at: 1.3, text: "ls" },
      { at: 2.5, text: "rm -rf /tmp" },
      { at: 3, text: "echo fine" },
      { at: 4, text: "git commit -m done" },
      { at: 5, text: "sudo id" },
      { at: 8, text: "cat /etc/hosts" },
    ],
  );
});

Deno.test("castEvents skips the header, other lines and a torn tail", () => {
  const text = '{"version":2}\n[0.5, "i", "a"]\n[0.6, "o", "a"]\nnot json\n[0.7, "i", "b';
  assert.deepEqual(castEvents(text), [[0.5, "i", "a"], [0.6, "o", "a"]]);
  assert.deepEqual(castEvents(text, (c) => c === "i"), [[0.5, "i", "a"]]);
  assert.deepEqual(castEvents(text, (c) => c === "o"), [[0.6, "o", "a"]]);
});
