/**
 * Totality fuzzing of the NLA codecs and both CredSSP state machines with a seeded PRNG: bit flips,
 * truncations, extensions, length corruptions and random bytes. Parsers must return or throw
 * RdpParseError; the machines must never throw or reject, only report an NlaError (or wait for more
 * bytes), and a server must never deliver credentials other than those the client really sent.
 * Override NLA_FUZZ_SEED / NLA_FUZZ_ITERATIONS to explore; failures print the seed and the input.
 */
import assert from "node:assert/strict";
import { RdpParseError } from "../pdu/errors.ts";
import { concat, toHex } from "../pdu/reader.ts";
import { ntHash } from "./crypto.ts";
import { CredSspClient } from "./credssp_client.ts";
import { CredSspServer } from "./credssp_server.ts";
import { parseEarlyUserAuthResult } from "./early_auth.ts";
import { NlaError } from "./errors.ts";
import { XFREERDP_AUTHENTICATE_TSREQUEST, XFREERDP_NEGOTIATE_TSREQUEST } from "./fixtures_captured.ts";
import { TsRequestFramer } from "./frame.ts";
import {
  parseAuthenticate,
  parseAvPairs,
  parseChallenge,
  parseNegotiate,
  parseNtlmV2ClientChallenge,
} from "./ntlm_messages.ts";
import { isRawNtlm, parseNegTokenInit, parseNegTokenResp } from "./spnego.ts";
import { TEST_CERT_PEM } from "./test_fixtures.ts";
import { parsePasswordCreds, parseTsCredentials, parseTsRequest } from "./ts_request.ts";
import { pemCertificateDer, subjectPublicKey } from "./x509.ts";

const SEED = Number(Deno.env.get("NLA_FUZZ_SEED") ?? 0x41a5eed);
const ITERATIONS = Number(Deno.env.get("NLA_FUZZ_ITERATIONS") ?? 1500);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = rand();
  if (src.length === 0 || pick < 0.08) return Uint8Array.from({ length: int(300) }, () => int(256));
  const b = src.slice();
  if (pick < 0.4) {
    for (let n = 1 + int(4); n > 0; n--) b[int(b.length)] ^= 1 << int(8);
    return b;
  }
  if (pick < 0.55) return b.subarray(0, int(b.length));
  if (pick < 0.65) return concat(b, Uint8Array.from({ length: 1 + int(16) }, () => int(256)));
  // length-field corruption (DER lengths are big-endian, NTLM fields little-endian)
  const at = int(b.length);
  const extremes = [0, 1, 2, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff];
  const width = [1, 2, 4][int(3)];
  const value = rand() < 0.5 ? extremes[int(extremes.length)] : int(2 ** (8 * width));
  for (let i = 0; i < width && at + i < b.length; i++) {
    const shift = rand() < 0.5 ? i : width - 1 - i;
    b[at + i] = Math.floor(value / 2 ** (8 * shift)) & 0xff;
  }
  return b;
}

const KEY = subjectPublicKey(pemCertificateDer(TEST_CERT_PEM));
const CREDS = { domain: "CORP", user: "alice", password: "S3cret" };
const lookup = (user: string) => Promise.resolve(user.toLowerCase() === "alice" ? ntHash("S3cret") : null);

/** A complete valid exchange: [client->server messages, server->client messages]. */
async function exchange(spnego: boolean, version: number): Promise<[Uint8Array[], Uint8Array[]]> {
  const client = new CredSspClient({ publicKey: KEY, credentials: CREDS, spnego, version });
  const server = new CredSspServer({ publicKey: KEY, lookupNtHash: lookup });
  const up = [client.start()], down: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await server.receive(up[i]);
    if (s.result) break;
    down.push(...s.send);
    up.push(...client.receive(s.send[0]).send);
  }
  assert.equal(server.state, "complete");
  return [up, down];
}

function unwrapNtlm(token: Uint8Array): Uint8Array | null {
  if (isRawNtlm(token)) return token;
  try {
    const t = token[0] === 0x60 ? parseNegTokenInit(token).mechToken : parseNegTokenResp(token).responseToken;
    return t;
  } catch (_e) {
    return null;
  }
}

function total(name: string, input: Uint8Array, f: (b: Uint8Array) => unknown): void {
  try {
    f(input);
  } catch (e) {
    if (e instanceof RdpParseError) return;
    throw new Error(
      `${name} threw ${(e as Error)?.name}: ${(e as Error)?.message} (seed ${SEED}) on ${toHex(input)}`,
    );
  }
}

Deno.test("fuzz: every NLA parser is total (returns or throws RdpParseError)", async () => {
  const tsRequests: Uint8Array[] = [XFREERDP_NEGOTIATE_TSREQUEST, XFREERDP_AUTHENTICATE_TSREQUEST];
  for (const [spnego, v] of [[false, 6], [true, 6], [false, 3], [true, 2]] as const) {
    const [up, down] = await exchange(spnego, v);
    tsRequests.push(...up, ...down);
  }
  const tokens = tsRequests.flatMap((b) => parseTsRequest(b).negoTokens);
  const ntlm = tokens.map(unwrapNtlm).filter((t): t is Uint8Array => t !== null);
  const blobs = ntlm.filter((m) => m[8] === 3).map((m) => parseAuthenticate(m).ntResponse.subarray(16));
  const creds = [
    new Uint8Array([0x30, 0x0c, 0xa0, 0x03, 0x02, 0x01, 0x01, 0xa1, 0x05, 0x04, 0x03, 1, 2, 3]),
  ];
  const targets: [string, Uint8Array[], (b: Uint8Array) => unknown][] = [
    ["parseTsRequest", tsRequests, parseTsRequest],
    ["parseNegTokenInit", tokens.filter((t) => t[0] === 0x60), parseNegTokenInit],
    ["parseNegTokenResp", tokens.filter((t) => t[0] === 0xa1), parseNegTokenResp],
    ["parseNegotiate", ntlm.filter((m) => m[8] === 1), parseNegotiate],
    ["parseChallenge", ntlm.filter((m) => m[8] === 2), parseChallenge],
    ["parseAuthenticate", ntlm.filter((m) => m[8] === 3), parseAuthenticate],
    ["parseNtlmV2ClientChallenge", blobs, parseNtlmV2ClientChallenge],
    ["parseAvPairs", blobs.map((b) => b.subarray(28)), parseAvPairs],
    ["parseTsCredentials", creds, parseTsCredentials],
    ["parsePasswordCreds", [
      new Uint8Array([0x30, 0x0c, 0xa0, 0x02, 0x04, 0, 0xa1, 0x02, 0x04, 0, 0xa2, 0x02, 0x04, 0]),
    ], parsePasswordCreds],
    ["subjectPublicKey", [pemCertificateDer(TEST_CERT_PEM)], subjectPublicKey],
    ["parseEarlyUserAuthResult", [new Uint8Array(4)], parseEarlyUserAuthResult],
    ["TsRequestFramer", tsRequests, (b) => {
      const f = new TsRequestFramer();
      f.push(b);
      while (f.next());
    }],
  ];
  const rand = prng(SEED);
  for (const [name, seeds, f] of targets) {
    assert.ok(seeds.length > 0, `${name}: no seed input`);
    for (const s of seeds) total(name, s, f); // the valid inputs themselves
    for (let i = 0; i < ITERATIONS; i++) total(name, mutate(rand, seeds[i % seeds.length]), f);
  }
});

Deno.test("fuzz: the CredSSP server survives hostile input in every state", async () => {
  const rand = prng(SEED ^ 0x5e);
  const n = Math.max(50, Math.floor(ITERATIONS / 10));
  for (const spnego of [false, true]) {
    for (let state = 0; state < 3; state++) {
      for (let i = 0; i < n; i++) {
        const client = new CredSspClient({ publicKey: KEY, credentials: CREDS, spnego });
        const server = new CredSspServer({ publicKey: KEY, lookupNtHash: lookup });
        let msg = client.start();
        for (let k = 0; k < state; k++) {
          const s = await server.receive(msg);
          msg = client.receive(s.send[0]).send[0];
        }
        const bad = mutate(rand, msg);
        const chunks = rand() < 0.3
          ? [bad.subarray(0, bad.length >> 1), bad.subarray(bad.length >> 1)]
          : [bad];
        chunks.push(mutate(rand, msg)); // and more garbage after that
        for (const c of chunks) {
          const step = await server.receive(c).catch((e) =>
            assert.fail(`receive rejected: ${e} (seed ${SEED})`)
          );
          if (step.error) assert.ok(step.error instanceof NlaError, `not an NlaError: ${step.error}`);
          if (step.result) {
            assert.deepEqual(
              step.result.credentials,
              CREDS,
              `forged credentials accepted from ${toHex(bad)}`,
            );
          }
          if (step.error || step.result) break;
        }
      }
    }
  }
});

Deno.test("fuzz: the CredSSP client survives hostile input in every state", async () => {
  const rand = prng(SEED ^ 0xc1);
  const n = Math.max(50, Math.floor(ITERATIONS / 10));
  for (const spnego of [false, true]) {
    for (let state = 0; state < 2; state++) {
      for (let i = 0; i < n; i++) {
        const client = new CredSspClient({ publicKey: KEY, credentials: CREDS, spnego });
        const server = new CredSspServer({ publicKey: KEY, lookupNtHash: lookup });
        let up = client.start();
        let down = (await server.receive(up)).send[0];
        for (let k = 0; k < state; k++) {
          up = client.receive(down).send[0];
          down = (await server.receive(up)).send[0];
        }
        for (const c of [mutate(rand, down), mutate(rand, down)]) {
          let step;
          try {
            step = client.receive(c);
          } catch (e) {
            assert.fail(`client.receive threw ${e} (seed ${SEED})`);
          }
          if (step.error) assert.ok(step.error instanceof NlaError);
          if (step.error || step.done) break;
        }
      }
    }
  }
});
