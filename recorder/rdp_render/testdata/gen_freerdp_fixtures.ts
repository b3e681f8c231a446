// Dev tool: regenerate freerdp_fixtures.json from the system FreeRDP 2 library (Debian freerdp2-*),
// the same encoder FreeRDP's shadow server uses. Not run by tests.
//
//   deno run --allow-ffi --allow-write=recorder/rdp_render/testdata \
//     recorder/rdp_render/testdata/gen_freerdp_fixtures.ts
//
// Each fixture holds a bitmap stream (FreeRDP's interleaved or planar encoder output, or our test
// planar encoder's output for the colour-loss/subsampling modes FreeRDP cannot encode) and the
// SHA-256 of the RGBA picture FreeRDP's client decoders produce from it (vFlip as for bitmap updates).

import { Buffer } from "node:buffer";
import { type ImageName, makeImage } from "./images.ts";
import { encodePlanar, type PlanarOptions } from "./planar_encoder.ts";

const RGBA32 = 0x20038888; // FREERDP_PIXEL_FORMAT(32, RGBA, 8, 8, 8, 8): bytes R, G, B, A

const lib = Deno.dlopen("libfreerdp2.so.2", {
  bitmap_interleaved_context_new: { parameters: ["i32"], result: "pointer" },
  interleaved_compress: {
    parameters: [
      "pointer",
      "buffer",
      "buffer",
      "u32",
      "u32",
      "buffer",
      "u32",
      "u32",
      "u32",
      "u32",
      "pointer",
      "u32",
    ],
    result: "i32",
  },
  interleaved_decompress: {
    parameters: [
      "pointer",
      "buffer",
      "u32",
      "u32",
      "u32",
      "u32",
      "buffer",
      "u32",
      "u32",
      "u32",
      "u32",
      "u32",
      "u32",
      "pointer",
    ],
    result: "i32",
  },
  freerdp_bitmap_planar_context_new: { parameters: ["u32", "u32", "u32"], result: "pointer" },
  freerdp_bitmap_compress_planar: {
    parameters: ["pointer", "buffer", "u32", "u32", "u32", "u32", "pointer", "buffer"],
    result: "pointer",
  },
  planar_decompress: {
    parameters: [
      "pointer",
      "buffer",
      "u32",
      "u32",
      "u32",
      "buffer",
      "u32",
      "u32",
      "u32",
      "u32",
      "u32",
      "u32",
      "i32",
    ],
    result: "i32",
  },
});
const s = lib.symbols;

interface Fixture {
  name: string;
  codec: "interleaved" | "planar";
  bpp: number;
  width: number;
  height: number;
  image: ImageName;
  /** Encoder that produced `data`. */
  encoder: "freerdp" | "test";
  data: string;
  /** SHA-256 (hex) of FreeRDP's decoded top-down RGBA. */
  freerdpRgbaSha256: string;
}

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b.slice()));
  return [...d].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function interleavedEncode(img: Uint8Array, w: number, h: number, bpp: number): Uint8Array {
  const ctx = s.bitmap_interleaved_context_new(1);
  const dst = new Uint8Array(64 * 64 * 4);
  const size = new Uint32Array([dst.length]);
  if (!s.interleaved_compress(ctx, dst, size, w, h, img, RGBA32, w * 4, 0, 0, null, bpp)) {
    throw new Error(`interleaved_compress failed ${w}x${h}@${bpp}`);
  }
  return dst.slice(0, size[0]);
}

function interleavedDecode(data: Uint8Array, w: number, h: number, bpp: number): Uint8Array {
  const ctx = s.bitmap_interleaved_context_new(0);
  const out = new Uint8Array(w * h * 4);
  if (!s.interleaved_decompress(ctx, data, data.length, w, h, bpp, out, RGBA32, w * 4, 0, 0, w, h, null)) {
    throw new Error("interleaved_decompress failed");
  }
  return out;
}

function planarEncode(img: Uint8Array, w: number, h: number, flags: number): Uint8Array {
  const ctx = s.freerdp_bitmap_planar_context_new(flags, 64, 64);
  const size = new Uint32Array(1);
  const p = s.freerdp_bitmap_compress_planar(ctx, img, RGBA32, w, h, w * 4, null, size);
  if (!p) throw new Error("freerdp_bitmap_compress_planar failed");
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, size[0])).slice();
}

function planarDecode(data: Uint8Array, w: number, h: number): Uint8Array {
  const ctx = s.freerdp_bitmap_planar_context_new(0, 64, 64);
  const out = new Uint8Array(w * h * 4);
  if (!s.planar_decompress(ctx, data, data.length, w, h, out, RGBA32, w * 4, 0, 0, w, h, 1)) {
    throw new Error(`planar_decompress failed ${w}x${h} hdr=0x${data[0].toString(16)} len=${data.length}`);
  }
  return out;
}

const fixtures: Fixture[] = [];
const add = async (f: Omit<Fixture, "data" | "freerdpRgbaSha256">, data: Uint8Array, decoded: Uint8Array) => {
  fixtures.push({
    ...f,
    data: Buffer.from(data).toString("base64"),
    freerdpRgbaSha256: await sha256(decoded),
  });
};

for (const bpp of [15, 16, 24]) {
  for (
    const [image, w, h] of [["ui", 64, 64], ["noise", 16, 8], ["gradient", 32, 16], [
      "stripes",
      24,
      4,
    ]] as const
  ) {
    const img = makeImage(image, w, h);
    const data = interleavedEncode(img, w, h, bpp);
    await add(
      {
        name: `interleaved ${image} ${w}x${h} ${bpp}bpp`,
        codec: "interleaved",
        bpp,
        width: w,
        height: h,
        image,
        encoder: "freerdp",
      },
      data,
      interleavedDecode(data, w, h, bpp),
    );
  }
}

const RLE = 0x10, NA = 0x20;
for (
  const [flags, label] of [[RLE | NA, "rle"], [RLE, "rle+alpha"], [NA, "raw"], [0, "raw+alpha"]] as const
) {
  for (
    const [image, w, h] of [["ui", 40, 40], ["alpha", 37, 23], ["noise", 8, 8], ["gradient", 6, 5]] as const
  ) {
    const img = makeImage(image, w, h);
    const data = planarEncode(img, w, h, flags);
    await add(
      {
        name: `planar ${label} ${image} ${w}x${h}`,
        codec: "planar",
        bpp: 32,
        width: w,
        height: h,
        image,
        encoder: "freerdp",
      },
      data,
      planarDecode(data, w, h),
    );
  }
}

const lossy: [string, PlanarOptions][] = [
  ["cll1", { cll: 1 }],
  ["cll3 raw", { cll: 3, rle: false }],
  ["cll2 cs", { cll: 2, cs: true }],
  ["cll1 cs alpha raw", { cll: 1, cs: true, alpha: true, rle: false }],
];
for (const [label, opts] of lossy) {
  for (const [image, w, h] of [["ui", 64, 64], ["gradient", 33, 17]] as const) {
    const data = encodePlanar(makeImage(image, w, h), w, h, opts);
    await add(
      {
        name: `planar ${label} ${image} ${w}x${h}`,
        codec: "planar",
        bpp: 32,
        width: w,
        height: h,
        image,
        encoder: "test",
      },
      data,
      planarDecode(data, w, h),
    );
  }
}

const out = new URL("./freerdp_fixtures.json", import.meta.url);
await Deno.writeTextFile(
  out,
  JSON.stringify({ generator: "FreeRDP 2.11.7 (Debian libfreerdp2-2)", fixtures }, null, 1) + "\n",
);
console.log(`wrote ${fixtures.length} fixtures to ${out.pathname}`);
lib.close();
