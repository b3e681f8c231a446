// What the fast-path and slow-path parsers report; the renderer implements it.

import type { ByteReader } from "./byte_reader.ts";
import type { CachedShape } from "./pointer.ts";

export interface UpdateSink {
  /** A bitmap update; the reader is positioned at numberRectangles. */
  bitmap(r: ByteReader): void;
  pointerHidden(): void;
  pointerDefault(): void;
  pointerPosition(x: number, y: number): void;
  /** A new shape, stored in the cache slot and shown. */
  pointerShape(shape: CachedShape): void;
  pointerCached(cacheIndex: number): void;
  /** Demand Active after (re)activation: the desktop size from the Bitmap Capability Set. */
  desktopSize(width: number, height: number, bpp: number): void;
}
