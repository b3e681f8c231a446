// Loads freerdp_fixtures.json (see gen_freerdp_fixtures.ts) and small helpers for codec tests.

import { Buffer } from "node:buffer";
import type { ImageName } from "./images.ts";

export interface FreeRdpFixture {
  name: string;
  codec: "interleaved" | "planar";
  bpp: number;
  width: number;
  height: number;
  image: ImageName;
  encoder: "freerdp" | "test";
  data: Uint8Array;
  freerdpRgbaSha256: string;
}

export function loadFreeRdpFixtures(codec: FreeRdpFixture["codec"]): FreeRdpFixture[] {
  const raw = JSON.parse(Deno.readTextFileSync(new URL("./freerdp_fixtures.json", import.meta.url)));
  return (raw.fixtures as (Omit<FreeRdpFixture, "data"> & { data: string })[])
    .filter((f) => f.codec === codec)
    .map((f) => ({ ...f, data: new Uint8Array(Buffer.from(f.data, "base64")) }));
}

export async function sha256Hex(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b.slice()));
  return [...d].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s,]|0x/g, "");
  return new Uint8Array(clean.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

/** Deterministic pseudo-random bytes for fuzz loops. */
export function randomBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}
