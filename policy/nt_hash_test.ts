import assert from "node:assert/strict";
import { ntHash } from "./nt_hash.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

Deno.test("ntHash: MS-NLMP 4.2.1 'Password' and non-ASCII input", () => {
  // MS-NLMP 4.2.2.1.2 / 4.2.4.1.1: NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852
  assert.equal(hex(ntHash("Password")), "a4f49c406510bdcab6824ee7c30fd852");
  assert.equal(hex(ntHash("")), "31d6cfe0d16ae931b73c59d7e0c089c0");
  assert.notEqual(hex(ntHash("pässwörd")), hex(ntHash("passwrd")));
  assert.equal(ntHash("x").length, 16);
});
