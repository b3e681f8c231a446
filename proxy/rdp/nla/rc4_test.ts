// RC4 against RFC 6229, and MD4 from node:crypto against RFC 1320 (both NTLM primitives).
import assert from "node:assert/strict";
import { hex, toHex } from "../pdu/reader.ts";
import { md4 } from "./crypto.ts";
import { Rc4, rc4 } from "./rc4.ts";

const h = (b: Uint8Array) => toHex(b).replaceAll(" ", "");

Deno.test("MD4 (node:crypto) matches RFC 1320 A.5", () => {
  const cases: [string, string][] = [
    ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
    ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
    ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
    ["message digest", "d9130a8164549fe818874806e1c7014b"],
    ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
  ];
  for (const [m, d] of cases) assert.equal(h(md4(new TextEncoder().encode(m))), d, m);
});

Deno.test("RC4 matches RFC 6229 keystreams", () => {
  const zeros = new Uint8Array(32);
  assert.equal(
    h(rc4(hex("0102030405"), zeros)),
    "b2396305f03dc027ccc3524a0a1118a8" + "6982944f18fc82d589c403a47a0d0919",
  );
  assert.equal(h(rc4(hex("01020304050607"), zeros.subarray(0, 16))), "293f02d47f37c9b633f2af5285feb46b");
  assert.equal(h(rc4(hex("0102030405060708"), zeros.subarray(0, 16))), "97ab8a1bf0afb96132f2f67258da15a8");
  assert.equal(
    h(rc4(hex("0102030405060708090a"), zeros.subarray(0, 16))),
    "ede3b04643e586cc907dc21851709902",
  );
  assert.equal(
    h(rc4(hex("0102030405060708090a0b0c0d0e0f10"), zeros.subarray(0, 16))),
    "9ac7cc9a609d1ef7b2932899cde41b97",
  );
  // a stream continues across calls exactly like one long call
  const s = new Rc4(hex("0102030405"));
  const parts = [s.update(new Uint8Array(5)), s.update(new Uint8Array(27))];
  assert.equal(h(parts[0]) + h(parts[1]), h(rc4(hex("0102030405"), zeros)));
  assert.throws(() => new Rc4(new Uint8Array(0)), RangeError);
});
