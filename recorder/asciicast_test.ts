import assert from "node:assert/strict";
import { join } from "node:path";
import { asciinema } from "../tests/helpers/asciinema.ts";
import { AsciicastWriter, eventLine, headerLine } from "./asciicast.ts";

Deno.test("headerLine() writes a v2 header and clamps bad sizes", () => {
  const h = JSON.parse(headerLine({ width: 0, height: 40, timestamp: 1700000000.7, env: { TERM: "xterm" } }));
  assert.deepEqual(h, { version: 2, width: 80, height: 40, timestamp: 1700000000, env: { TERM: "xterm" } });
});

Deno.test("eventLine() escapes control characters as JSON", () => {
  assert.equal(eventLine(1.5, "o", 'a\u001b[0m\r\n"'), '[1.500000, "o", "a\\u001b[0m\\r\\n\\""]\n');
});

Deno.test("AsciicastWriter streams a 0600 file that asciinema cat accepts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.cast");
    let t = 0;
    const w = await AsciicastWriter.create(path, { width: 100, height: 30, timestamp: 1700000000 }, {
      monotonic: () => t,
    });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    t = 100;
    w.output(new TextEncoder().encode("hello "));
    // a UTF-8 sequence split across two packets must not turn into replacement characters
    const euro = new TextEncoder().encode("€");
    w.output(euro.subarray(0, 1));
    t = 250;
    w.output(euro.subarray(1));
    w.input("ls\r");
    w.resize(120, 40);
    const size = await w.close();
    assert.equal(size, (await Deno.stat(path)).size);
    const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines[0].version, 2);
    assert.deepEqual(lines.slice(1), [[0.1, "o", "hello "], [0.25, "o", "€"], [0.25, "i", "ls\r"], [
      0.25,
      "r",
      "120x40",
    ]]);
    assert.equal(await asciinema("cat", path), "hello €");
    assert.match(await asciinema("play", path), /hello €/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter.create() refuses to overwrite an existing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.cast");
    await Deno.writeTextFile(path, "x");
    await assert.rejects(
      () => AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 0 }),
      { name: "RecordingError", code: "open_failed" },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter reports full above the high-water mark and drains", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = await AsciicastWriter.create(join(dir, "s.cast"), { width: 80, height: 24, timestamp: 0 }, {
      highWaterBytes: 1000,
    });
    for (let i = 0; i < 100; i++) w.output("x".repeat(100));
    assert.equal(w.full, true);
    await w.drained();
    assert.equal(w.full, false);
    assert.ok((await w.close()) > 10_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter merges output chunks of one task less than 1 ms apart, keeping order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.cast");
    let t = 0;
    const w = await AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 0 }, {
      monotonic: () => t,
    });
    const enc = new TextEncoder();
    t = 10;
    w.output(enc.encode("a"));
    t = 10.5;
    w.output(enc.encode("b")); // same read: merged, at the first chunk's time
    w.input("x"); // any other event flushes the pending output first
    w.output(enc.encode("c"));
    t = 12;
    w.output(enc.encode("d")); // 2 ms after "c": a new event
    await new Promise((r) => setTimeout(r, 0));
    t = 12.2;
    w.output(enc.encode("e")); // a later task: a new event even within 1 ms
    w.resize(100, 30);
    const size = await w.close();
    assert.equal(size, (await Deno.stat(path)).size);
    const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(1), [
      [0.01, "o", "ab"],
      [0.0105, "i", "x"],
      [0.0105, "o", "c"],
      [0.012, "o", "d"],
      [0.0122, "o", "e"],
      [0.0122, "r", "100x30"],
    ]);
    assert.equal(await asciinema("cat", path), "abcde");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter records every byte of a large burst of output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.cast");
    const w = await AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 0 }, {
      highWaterBytes: 64 * 1024,
    });
    const enc = new TextEncoder();
    let expected = "";
    for (let i = 0; i < 2000; i++) {
      // multi-byte characters split across chunks, as SSH packets split them
      const chunk = enc.encode(`line ${i} €ü\r\n`);
      w.output(chunk.subarray(0, 9));
      w.output(chunk.subarray(9));
      expected += `line ${i} €ü\r\n`;
      if (w.full) await w.drained();
    }
    await w.close();
    assert.equal(await asciinema("cat", path), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter crlf: bare line feeds of a channel without a terminal become CR LF; markers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "s.cast");
    let t = 0;
    const w = await AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 1700000000 }, {
      monotonic: () => t,
      crlf: true,
    });
    w.output("a\nb\r\nc\r");
    t = 10; // another event: no merging across the CR
    w.output("\nd\n\n");
    t = 20;
    w.marker("stdout: limit reached");
    await w.close();
    const events = (await Deno.readTextFile(path)).trim().split("\n").slice(1).map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => [e[1], e[2]]), [
      ["o", "a\r\nb\r\nc\r"],
      ["o", "\nd\r\n\r\n"],
      ["m", "stdout: limit reached"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter maskUnechoed: echoed input kept, unechoed masked when its window passes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "m.cast");
    const w = await AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 1700000000 }, {
      maskUnechoed: { windowMs: 30 },
    });
    w.input("l");
    w.output("l");
    w.output("\r\nPIN? ");
    w.input(new TextEncoder().encode("12"));
    await new Promise((r) => setTimeout(r, 10));
    w.input("3"); // after a prompt: masked at once
    w.output("later");
    await new Promise((r) => setTimeout(r, 10));
    w.output("\r\ntoken: ");
    w.input("zz"); // no echo: masked by the timer
    await new Promise((r) => setTimeout(r, 80));
    const before = (await Deno.readTextFile(path)).split("\n").filter(Boolean).length;
    w.input("q"); // undecided at close: masked
    await w.close();
    const events = (await Deno.readTextFile(path)).trim().split("\n").slice(1).map((l) => JSON.parse(l));
    assert.deepEqual(events.filter((e) => e[1] === "i").map((e) => e[2]), ["l", "**", "*", "**", "*"]);
    assert.equal(before, 1 + events.length - 1, "the timer wrote the masked input before close");
    for (let i = 1; i < events.length; i++) assert.ok(events[i][0] >= events[i - 1][0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsciicastWriter records a keystroke and its echo after the relaying task, at their own times", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "d.cast");
    let t = 0;
    const w = await AsciicastWriter.create(path, { width: 80, height: 24, timestamp: 1700000000 }, {
      monotonic: () => t,
      maskUnechoed: { windowMs: 30 },
    });
    const lines = async () =>
      (await Deno.readTextFile(path)).trim().split("\n").slice(1).map((l) => JSON.parse(l));
    const key = new Uint8Array([0x61]); // the caller reuses its buffer: the writer keeps a copy
    t = 10;
    w.input(key);
    key[0] = 0x62;
    t = 10.4;
    w.output(new Uint8Array([0x61]));
    // held back while the task runs: nothing is decoded, masked or written yet
    assert.deepEqual(await lines(), []);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await lines(), [[0.01, "i", "a"], [0.0104, "o", "a"]]);
    // a large chunk is recorded at once, after the small ones held back before it
    t = 20;
    w.output("x");
    t = 21;
    w.output(new TextEncoder().encode("y".repeat(5000)));
    t = 22;
    w.marker("note"); // a marker also comes after what was held back
    const got = await (async () => {
      await new Promise((r) => setTimeout(r, 20));
      return (await lines()).slice(2);
    })();
    assert.deepEqual(got.map((e) => [e[0], e[1], e[2].length]), [[0.02, "o", 1], [0.021, "o", 5000], [
      0.022,
      "m",
      4,
    ]]);
    // close records what is still held back
    t = 30;
    w.input("q");
    w.output("q");
    await w.close();
    assert.deepEqual((await lines()).slice(-2), [[0.03, "i", "q"], [0.03, "o", "q"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
