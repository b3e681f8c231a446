// Known answers from MS-NLMP 4.2.4 (NTLMv2).
import assert from "node:assert/strict";
import { hex, toHex } from "../pdu/reader.ts";
import { ntHash, utf16le } from "./crypto.ts";
import {
  fileTime,
  fileTimeToMs,
  ntlmV2Responses,
  ntlmV2Temp,
  ntowfv2,
  sealKey,
  sessionSecurity,
  signKey,
} from "./ntlm_crypto.ts";
import { AV_NB_COMPUTER_NAME, AV_NB_DOMAIN_NAME, encodeAvPairs } from "./ntlm_messages.ts";
import { rc4 } from "./rc4.ts";

const h = (b: Uint8Array) => toHex(b).replaceAll(" ", "");

// MS-NLMP 4.2.1 common values and 4.2.4 NTLMv2 results.
const USER = "User", DOMAIN = "Domain", PASSWORD = "Password";
const SERVER_CHALLENGE = hex("01 23 45 67 89 ab cd ef");
const CLIENT_CHALLENGE = hex("aa aa aa aa aa aa aa aa");
const RANDOM_SESSION_KEY = new Uint8Array(16).fill(0x55);
const TIME = new Uint8Array(8);
const AV = encodeAvPairs([
  { id: AV_NB_DOMAIN_NAME, value: utf16le("Domain") },
  { id: AV_NB_COMPUTER_NAME, value: utf16le("Server") },
]);

Deno.test("MS-NLMP 4.2.4: NTOWFv2, LMv2, NTProofStr, session base key, encrypted session key", () => {
  assert.equal(h(ntHash(PASSWORD)), "a4f49c406510bdcab6824ee7c30fd852");
  const key = ntowfv2(ntHash(PASSWORD), USER, DOMAIN);
  assert.equal(h(key), "0c868a403bfd7a93a3001ef22ef02e3f");
  const temp = ntlmV2Temp(TIME, CLIENT_CHALLENGE, AV);
  assert.equal(
    h(temp),
    "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
      "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000" + "00000000",
  );
  const r = ntlmV2Responses(key, SERVER_CHALLENGE, CLIENT_CHALLENGE, temp);
  assert.equal(h(r.lmResponse), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
  assert.equal(h(r.ntProofStr), "68cd0ab851e51c96aabc927bebef6a1c");
  assert.equal(h(r.sessionBaseKey), "8de40ccadbc14a82f15cb0ad0de95ca3");
  assert.equal(h(rc4(r.sessionBaseKey, RANDOM_SESSION_KEY)), "c5dad2544fc9799094ce1ce90bc9d03e");
  // the user name is case-insensitive, the domain is not
  assert.deepEqual(ntowfv2(ntHash(PASSWORD), "USER", DOMAIN), key);
  assert.notDeepEqual(ntowfv2(ntHash(PASSWORD), USER, "DOMAIN"), key);
});

Deno.test("MS-NLMP 4.2.4.4: sign/seal keys and GSS_WrapEx of 'Plaintext' in both directions", () => {
  assert.equal(h(signKey(RANDOM_SESSION_KEY, "client")), "4788dc861b4782f35d43fd98fe1a2d39");
  assert.equal(h(sealKey(RANDOM_SESSION_KEY, "client")), "59f600973cc4960a25480a7c196e4c58");
  const client = sessionSecurity(RANDOM_SESSION_KEY, "client");
  const server = sessionSecurity(RANDOM_SESSION_KEY, "server");
  const plaintext = utf16le("Plaintext");
  const fromClient = client.outgoing.seal(plaintext);
  assert.equal(h(fromClient), "010000007fb38ec5c55d497600000000" + "54e50165bf1936dc996020c1811b0f06fb5f");
  const fromServer = server.outgoing.seal(plaintext);
  assert.equal(h(fromServer), "01000000b298b847ce7c580700000000" + "160871b730ba74e946c453d7465b54278dd0");
  // and each side opens the other's
  assert.deepEqual(server.incoming.unseal(fromClient), plaintext);
  assert.deepEqual(client.incoming.unseal(fromServer), plaintext);
  // a tampered or replayed message does not open
  const next = client.outgoing.seal(plaintext);
  next[20] ^= 1;
  assert.equal(server.incoming.unseal(next), null);
  assert.equal(server.incoming.unseal(fromClient), null);
});

Deno.test("FILETIME round trip", () => {
  const now = Date.UTC(2026, 11, 4, 22, 0, 0);
  assert.equal(fileTimeToMs(fileTime(now)), now);
  assert.equal(fileTimeToMs(fileTime(0)), 0);
});
