// A renderer snapshot as bytes (a keyframe of the seek index), and back. Pure; the index store
// compresses the bytes, the browser decompresses them with DecompressionStream.
//
// Layout (little-endian): u8 version | u16 width | u16 height | u8 pointer visible | u16 x | u16 y |
// shape | u16 cached shapes | (u16 slot | shape)… | picture (width × height × 4, RGBA).
// shape: u16 width | u16 height | u16 hotX | u16 hotY | RGBA (w × h × 4) | XOR flags (w × h).

import { type PointerShape, RenderError, type RendererSnapshot } from "../rdp_render/mod.ts";

const VERSION = 1;

const shapeBytes = (s: PointerShape) => 8 + s.width * s.height * 5;

export function encodeKeyframe(s: RendererSnapshot): Uint8Array {
  let size = 1 + 4 + 5 + shapeBytes(s.pointer.shape) + 2 + s.rgba.length;
  for (const [, shape] of s.cache) size += 2 + shapeBytes(shape);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  const u8 = (v: number) => dv.setUint8(o++, v);
  const u16 = (v: number) => void (dv.setUint16(o, v, true), o += 2);
  const shape = (p: PointerShape) => {
    [p.width, p.height, p.hotX, p.hotY].forEach(u16);
    out.set(p.rgba, o);
    o += p.rgba.length;
    out.set(p.xor, o);
    o += p.xor.length;
  };
  u8(VERSION);
  u16(s.width);
  u16(s.height);
  u8(s.pointer.visible ? 1 : 0);
  u16(clamp16(s.pointer.x));
  u16(clamp16(s.pointer.y));
  shape(s.pointer.shape);
  u16(s.cache.length);
  for (const [slot, p] of s.cache) {
    u16(slot);
    shape(p);
  }
  out.set(s.rgba, o);
  return out;
}

export function decodeKeyframe(b: Uint8Array): RendererSnapshot {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let o = 0;
  const need = (n: number) => {
    if (o + n > b.length) throw new RenderError("truncated", "keyframe ends early");
  };
  const u8 = () => (need(1), dv.getUint8(o++));
  const u16 = () => (need(2), o += 2, dv.getUint16(o - 2, true));
  const bytes = (n: number) => (need(n), o += n, b.slice(o - n, o));
  const shape = (): PointerShape => {
    const width = u16(), height = u16(), hotX = u16(), hotY = u16();
    return { width, height, hotX, hotY, rgba: bytes(width * height * 4), xor: bytes(width * height) };
  };
  if (u8() !== VERSION) throw new RenderError("malformed", "unknown keyframe version");
  const width = u16(), height = u16();
  const visible = u8() === 1, x = u16(), y = u16();
  const pointer = { visible, x, y, shape: shape() };
  const cache: [number, PointerShape][] = [];
  for (let n = u16(); n > 0; n--) cache.push([u16(), shape()]);
  const rgba = bytes(width * height * 4);
  if (o !== b.length) throw new RenderError("malformed", "bytes after the keyframe picture");
  return { width, height, rgba, pointer, cache };
}

const clamp16 = (v: number) => Math.max(0, Math.min(0xffff, v | 0));
