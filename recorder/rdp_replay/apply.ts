// One recorded record → the renderer: the one mapping the MP4 converter, the index builder and the
// browser player all use, so they draw the same pictures.

import { decodeScreenResize, RecordType } from "../rdp_file_format.ts";
import type { Renderer } from "../rdp_render/mod.ts";

export function applyRecord(r: Renderer, type: RecordType, payload: Uint8Array): void {
  switch (type) {
    case RecordType.SERVER_FASTPATH:
      return r.feedServerFastPath(payload);
    case RecordType.SERVER_SLOWPATH:
      return r.feedServerSlowPath(payload);
    case RecordType.CLIENT_FASTPATH_INPUT:
      return r.feedClientInput(payload, "fastpath");
    case RecordType.CLIENT_SLOWPATH_INPUT:
      return r.feedClientInput(payload, "slowpath");
    case RecordType.SCREEN_RESIZE: {
      const s = decodeScreenResize(payload);
      return r.resize(s.width, s.height);
    }
    default: // CHANNEL_DATA, META, END: nothing to draw
      return;
  }
}

/** Records that change the picture (as opposed to input, channels, metadata). */
export function drawsOnScreen(type: RecordType): boolean {
  return type === RecordType.SERVER_FASTPATH || type === RecordType.SERVER_SLOWPATH ||
    type === RecordType.SCREEN_RESIZE;
}
