import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeUtmp, encodeUtmp, LineAllocator, USER_PROCESS, UTMP_SIZE, UtmpWriter } from "./utmp.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("encodeUtmp() lays out a 384-byte glibc record that decodeUtmp() reads back", () => {
  const rec = {
    type: USER_PROCESS,
    pid: 4242,
    line: "ssh7",
    id: "ssh7",
    user: "alice",
    host: "192.0.2.10",
    session: 99,
    timeMs: 1_700_000_000_123,
    addr: "192.0.2.10",
  };
  const buf = encodeUtmp(rec);
  assert.equal(buf.length, UTMP_SIZE);
  assert.equal(buf[0], USER_PROCESS);
  assert.equal(new TextDecoder().decode(buf.subarray(44, 49)), "alice");
  assert.deepEqual(buf.subarray(348, 352), new Uint8Array([192, 0, 2, 10]));
  assert.deepEqual(decodeUtmp(buf), rec);
});

Deno.test("encodeUtmp() truncates over-long fields instead of overflowing", () => {
  const buf = encodeUtmp({
    type: USER_PROCESS,
    pid: 1,
    line: "x".repeat(100),
    id: "abcdef",
    user: "u".repeat(100),
    host: "h".repeat(400),
    session: 1,
    timeMs: 0,
    addr: "not an ip",
  });
  const r = decodeUtmp(buf);
  assert.equal(r.line.length, 32);
  assert.equal(r.user.length, 32);
  assert.equal(r.host.length, 256);
  assert.equal(r.id, "abcd");
  assert.equal(r.addr, null);
});

Deno.test("decodeUtmp() rejects a short record with a typed error", () => {
  assert.throws(() => decodeUtmp(new Uint8Array(10)), { name: "UtmpError", code: "bad_record" });
});

Deno.test("LineAllocator hands out ssh0…ssh99 and reuses released lines", () => {
  const a = new LineAllocator("ssh", 3);
  assert.equal(a.take(), "ssh0");
  assert.equal(a.take(), "ssh1");
  assert.equal(a.take(), "ssh2");
  assert.equal(a.take(), undefined);
  a.release("ssh1");
  assert.equal(a.take(), "ssh1");
});

Deno.test("UtmpWriter records show up in utmpdump and last -f", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utmp = join(dir, "utmp");
    const wtmp = join(dir, "wtmp");
    const w = new UtmpWriter(utmp, wtmp);
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    await w.login({
      line: "ssh0",
      user: "alice",
      host: "127.0.0.9",
      addr: "127.0.0.9",
      session: 1,
      timeMs: t0,
    });
    await w.login({
      line: "ssh1",
      user: "bob",
      host: "127.0.0.8",
      addr: "127.0.0.8",
      session: 2,
      timeMs: t0,
    });
    await w.logout("ssh0", t0 + 65_000);
    // utmp: slot ssh0 updated in place, so two records; wtmp: three appended
    assert.equal((await Deno.stat(utmp)).size, 2 * UTMP_SIZE);
    assert.equal((await Deno.stat(wtmp)).size, 3 * UTMP_SIZE);
    const dump = await run("utmpdump", [utmp]);
    assert.match(dump, /\[8\] \[\d+\] \[ssh0\] \[\s*\] \[ssh0\s*\] .*\[2026-01-02T03:05:10/);
    assert.match(
      dump,
      /\[7\] \[\d+\] \[ssh1\] \[bob\s*\] \[ssh1\s*\] \[127\.0\.0\.8\s*\] \[127\.0\.0\.8\s*\]/,
    );
    const last = await run("last", ["-f", wtmp, "-w", "--time-format", "iso"]);
    assert.match(last, /alice\s+ssh0\s+127\.0\.0\.9\s+2026-01-02T03:04:05.*- 2026-01-02T03:05:10/);
    assert.match(
      last,
      /bob\s+ssh1\s+127\.0\.0\.8\s+2026-01-02T03:04:05\S*\s+(still logged in|gone - no logout)/,
    );
    // (last(1) calls a login "gone" when no OS account of that name owns the pid: proxy users are not OS users)
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
