import assert from "node:assert/strict";
import { join } from "node:path";
import { LineSplitter, readLines, type SplitItem } from "./cast_lines.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("LineSplitter hands out complete lines only, across chunk and UTF-8 boundaries", () => {
  const s = new LineSplitter();
  const euro = enc("€"); // 3 bytes, split across pushes
  assert.deepEqual(s.push(enc("ab")), []);
  assert.deepEqual(s.push(new Uint8Array([...enc("c\r\nd"), euro[0]])), [{ line: "abc" }]);
  assert.deepEqual(s.push(new Uint8Array([euro[1], euro[2], 10, 10])), [{ line: "d€" }, { line: "" }]);
  assert.deepEqual(s.end(), []);
  assert.deepEqual(s.push(enc("tail")), []);
  assert.deepEqual(s.end(), [{ line: "tail" }]);
});

Deno.test("LineSplitter drops a line longer than its limit and goes on with the next", () => {
  const s = new LineSplitter(8);
  assert.deepEqual(s.push(enc("12345")), []);
  assert.deepEqual(s.push(enc("67890")), []);
  assert.deepEqual(s.push(enc("abc\nok\n")), [{ overlong: 13 }, { line: "ok" }]);
  assert.deepEqual(s.push(enc("x".repeat(20))), []);
  assert.deepEqual(s.end(), [{ overlong: 20 }]);
});

Deno.test("readLines() follows a growing file while told to and stops when told not to", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "f.cast");
  try {
    await Deno.writeTextFile(path, "one\ntw");
    const file = await Deno.open(path);
    let polls = 0;
    const seen: SplitItem[] = [];
    try {
      for await (
        const item of readLines(file, {
          pollMs: 5,
          more: async () => {
            polls++;
            if (polls === 2) await Deno.writeTextFile(path, "o\nthree", { append: true });
            if (polls === 4) await Deno.writeTextFile(path, "\nfour\n", { append: true });
            return polls < 4; // the 4th poll says the writer is done: what it wrote last is still read
          },
        })
      ) seen.push(item);
    } finally {
      file.close();
    }
    assert.deepEqual(seen, [{ line: "one" }, { line: "two" }, { line: "three" }, { line: "four" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLines() drops an unterminated last line when told the writer may be mid-line", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "f.cast");
  try {
    await Deno.writeTextFile(path, 'one\n[1.5, "o", "hal');
    const read = async (dropPartialTail: boolean) => {
      const file = await Deno.open(path);
      const seen: SplitItem[] = [];
      try {
        for await (const item of readLines(file, { dropPartialTail })) seen.push(item);
      } finally {
        file.close();
      }
      return seen;
    };
    assert.deepEqual(await read(true), [{ line: "one" }]);
    assert.deepEqual(await read(false), [{ line: "one" }, { line: '[1.5, "o", "hal' }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
