// Replays a recorded server→client stream into a desktop picture.
//
// Frames are top-down RGBA (bytes R, G, B, A with A = 255), width × height of the current desktop.
// The pointer is drawn into the frame copy only, never into the framebuffer the updates paint on.

import type { ByteReader } from "./byte_reader.ts";
import { applyBitmapUpdate } from "./bitmap.ts";
import type { Damage } from "./damage.ts";
import { malformed, RenderError } from "./errors.ts";
import { FastPathParser } from "./fastpath.ts";
import { Framebuffer } from "./framebuffer.ts";
import { lastFastPathPointer, lastSlowPathPointer } from "./input.ts";
import { type CachedShape, defaultPointer, drawPointer, type PointerShape } from "./pointer.ts";
import { feedSlowPath } from "./slowpath.ts";
import type { UpdateSink } from "./sink.ts";

/** Pointer cache slots we accept (clients advertise 25–32; this bounds the cache's memory). */
export const MAX_POINTER_CACHE = 128;

export interface Frame {
  width: number;
  height: number;
  /** Top-down RGBA; valid until the next frame() call. */
  rgba: Uint8Array;
  /**
   * Where this frame may differ from the previous one (everywhere on the first frame and after a
   * resize); valid until the next frame() call.
   */
  damage: Damage;
}

export interface PointerState {
  visible: boolean;
  x: number;
  y: number;
  shape: PointerShape;
}

export interface Renderer {
  readonly width: number;
  readonly height: number;
  /** The frame would differ from the last one returned (screen or pointer changed). */
  readonly dirty: boolean;
  readonly pointer: Readonly<PointerState>;
  feedServerFastPath(pdu: Uint8Array): void;
  feedServerSlowPath(pdu: Uint8Array): void;
  /** Client input: only absolute mouse positions are used (to place the pointer). */
  feedClientInput(pdu: Uint8Array, path?: "fastpath" | "slowpath"): void;
  resize(width: number, height: number): void;
  frame(): Frame;
  /** Inside a fragmented fast-path update: a snapshot now would lose the fragments held so far. */
  readonly midUpdate: boolean;
  /**
   * A copy of everything later updates depend on: picture, pointer, pointer cache (for seeking). Only
   * between updates (throws while midUpdate).
   */
  snapshot(): RendererSnapshot;
}

/** A renderer's state at one point of a recording; restoreRenderer() continues from it. */
export interface RendererSnapshot {
  width: number;
  height: number;
  /** The framebuffer (no pointer drawn), top-down RGBA. */
  rgba: Uint8Array;
  pointer: PointerState;
  /** Filled pointer cache slots. */
  cache: [number, PointerShape][];
}

export function createRenderer(opts: { width: number; height: number }): Renderer {
  return new RendererImpl(opts.width, opts.height);
}

/** A renderer in the state of a snapshot (which it copies): feeding it the records after the snapshot's
 * point gives the same frames as feeding one renderer the whole recording. */
export function restoreRenderer(s: RendererSnapshot): Renderer {
  const r = new RendererImpl(s.width, s.height);
  if (s.rgba.length !== s.width * s.height * 4) throw malformed("snapshot picture size");
  r.fb.data.set(s.rgba);
  r.pointer = { ...s.pointer };
  for (const [slot, shape] of s.cache) {
    if (slot < 0 || slot >= MAX_POINTER_CACHE) throw malformed(`pointer cache index ${slot}`);
    r.cacheSet(slot, shape);
  }
  return r;
}

class RendererImpl implements Renderer, UpdateSink {
  readonly fb: Framebuffer;
  dirty = true;
  pointer: PointerState = { visible: true, x: 0, y: 0, shape: defaultPointer() };
  readonly #cache = new Map<number, PointerShape>();
  readonly #fastPath = new FastPathParser(this);
  /** The last frame: kept and refreshed where damaged, rather than copied whole each time. */
  #out = new Uint8Array(0);
  /** Where the pointer was drawn into #out (to restore from the framebuffer). */
  #drawn: { x: number; y: number; w: number; h: number } | null = null;

  constructor(width: number, height: number) {
    this.fb = new Framebuffer(width, height);
  }

  get width(): number {
    return this.fb.width;
  }

  get height(): number {
    return this.fb.height;
  }

  feedServerFastPath(pdu: Uint8Array): void {
    this.#fastPath.feed(pdu);
  }

  feedServerSlowPath(pdu: Uint8Array): void {
    feedSlowPath(pdu, this);
  }

  feedClientInput(pdu: Uint8Array, path: "fastpath" | "slowpath" = "fastpath"): void {
    const p = path === "fastpath" ? lastFastPathPointer(pdu) : lastSlowPathPointer(pdu);
    if (p) this.pointerPosition(p.x, p.y);
  }

  resize(width: number, height: number): void {
    if (width === this.fb.width && height === this.fb.height) return;
    this.fb.resize(width, height);
    this.dirty = true;
  }

  frame(): Frame {
    const { width, height, data } = this.fb;
    const damage = this.fb.takeDamage();
    if (this.#out.length !== data.length) {
      this.#out = new Uint8Array(data.length);
      damage.addAll();
    }
    if (this.#drawn) damage.add(this.#drawn.x, this.#drawn.y, this.#drawn.w, this.#drawn.h);
    const p = this.pointer;
    this.#drawn = p.visible
      ? { x: p.x - p.shape.hotX, y: p.y - p.shape.hotY, w: p.shape.width, h: p.shape.height }
      : null;
    if (this.#drawn) damage.add(this.#drawn.x, this.#drawn.y, this.#drawn.w, this.#drawn.h);
    const out = this.#out;
    damage.runs((x, y, w, h) => {
      for (let row = y; row < y + h; row++) {
        const o = (row * width + x) * 4;
        out.set(data.subarray(o, o + w * 4), o);
      }
    });
    if (p.visible) drawPointer(out, width, height, p.shape, p.x, p.y);
    this.dirty = false;
    return { width, height, rgba: out, damage };
  }

  get midUpdate(): boolean {
    return this.#fastPath.midUpdate;
  }

  snapshot(): RendererSnapshot {
    if (this.midUpdate) throw new RenderError("malformed", "no snapshot inside a fragmented update");
    const { width, height, data } = this.fb;
    return {
      width,
      height,
      rgba: data.slice(),
      pointer: { ...this.pointer },
      cache: [...this.#cache],
    };
  }

  cacheSet(slot: number, shape: PointerShape): void {
    this.#cache.set(slot, shape);
  }

  // UpdateSink

  bitmap(r: ByteReader): void {
    if (applyBitmapUpdate(r, this.fb) > 0) this.dirty = true;
  }

  pointerHidden(): void {
    if (this.pointer.visible) [this.pointer.visible, this.dirty] = [false, true];
  }

  pointerDefault(): void {
    this.#show(defaultPointer());
  }

  pointerPosition(x: number, y: number): void {
    if (x === this.pointer.x && y === this.pointer.y) return;
    [this.pointer.x, this.pointer.y] = [x, y];
    if (this.pointer.visible) this.dirty = true;
  }

  pointerShape({ cacheIndex, shape }: CachedShape): void {
    if (cacheIndex >= MAX_POINTER_CACHE) throw malformed(`pointer cache index ${cacheIndex}`);
    this.#cache.set(cacheIndex, shape);
    this.#show(shape);
  }

  pointerCached(cacheIndex: number): void {
    const shape = this.#cache.get(cacheIndex);
    if (!shape) throw new RenderError("pointer_cache_miss", `pointer cache slot ${cacheIndex} is empty`);
    this.#show(shape);
  }

  desktopSize(width: number, height: number, _bpp: number): void {
    this.resize(width, height);
  }

  #show(shape: PointerShape): void {
    this.pointer.shape = shape;
    this.pointer.visible = true;
    this.dirty = true;
  }
}
