import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { NlaError } from "./nla/errors.ts";
import { driveExchange } from "./nla_legs.ts";

const collect = (s: PassThrough) => {
  const out: number[] = [];
  s.on("data", (d: Uint8Array) => out.push(...d));
  s.resume(); // the exchange leaves the stream paused for whoever reads next (the relay resumes it)
  return out;
};

Deno.test("driveExchange() answers each step and hands the bytes after the exchange back in order", async () => {
  const fromPeer = new PassThrough();
  const written: number[] = [];
  fromPeer.write = ((b: Uint8Array, cb?: (e?: Error | null) => void) => {
    written.push(...b);
    cb?.(null);
    return true;
  }) as typeof fromPeer.write;
  let calls = 0;
  const done = driveExchange(
    fromPeer,
    async (chunk) => {
      calls++;
      if (chunk[0] === 1) return { send: [Uint8Array.of(0xa1)] };
      // slow to finish, so the next chunk is already queued behind this one
      await new Promise((r) => setTimeout(r, 30));
      return { send: [Uint8Array.of(0xa2)], result: { rest: Uint8Array.of(9) } };
    },
    1000,
    "test",
  );
  fromPeer.push(Uint8Array.of(1));
  fromPeer.push(Uint8Array.of(2));
  await new Promise((r) => setTimeout(r, 5));
  fromPeer.push(Uint8Array.of(7, 8)); // the relay's first frame, arriving mid-step
  const end = await done;
  assert.ok("result" in end);
  assert.equal(calls, 2, "nothing after the exchange went to the state machine");
  assert.deepEqual(written, [0xa1, 0xa2]);
  const rest = collect(fromPeer);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(rest, [9, 7, 8]);
});

Deno.test("driveExchange() writes the error answer, then reports the failure; silence times out", async () => {
  const s = new PassThrough();
  const written: number[] = [];
  s.write = ((b: Uint8Array, cb?: (e?: Error | null) => void) => {
    written.push(...b);
    cb?.(null);
    return true;
  }) as typeof s.write;
  const p = driveExchange(
    s,
    () => ({
      send: [Uint8Array.of(0xee)],
      error: new NlaError("logon_failure", "wrong password"),
    }),
    1000,
    "test",
  );
  s.push(Uint8Array.of(1));
  const end = await p;
  assert.ok("error" in end && end.error.code === "logon_failure");
  assert.deepEqual(written, [0xee]);
  await assert.rejects(driveExchange(new PassThrough(), () => ({ send: [] }), 30, "silent"), /within 30 ms/);
});
