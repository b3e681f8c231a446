// Public surface of the RDP renderer: recorded server→client PDUs in, RGBA frames out.

export {
  createRenderer,
  type Frame,
  MAX_POINTER_CACHE,
  type PointerState,
  type Renderer,
  type RendererSnapshot,
  restoreRenderer,
} from "./renderer.ts";
export type { PointerShape } from "./pointer.ts";
export { CELL, Damage } from "./damage.ts";
export { RenderError, type RenderErrorCode } from "./errors.ts";
export { demandActiveDesktop, PDUTYPE_DEMANDACTIVE, sharePdus } from "./slowpath.ts";
export { decodeInterleaved } from "./interleaved.ts";
export { decodePlanar } from "./planar.ts";
