(() => {
  // recorder/rdp_file_format.ts
  var MAGIC = new TextEncoder().encode("JHRDPREC");
  var FORMAT_VERSION = 1;
  var PREAMBLE_BYTES = 8 + 2 + 4;
  var RECORD_HEADER_BYTES = 1 + 4 + 4;
  var MAX_HEADER_BYTES = 1 << 20;
  var MAX_RECORD_BYTES = 16 << 20;
  var RecordType = {
    /** A server→client fast-path output PDU as on the wire after TLS (TS_FP_UPDATE_PDU incl. header). */
    SERVER_FASTPATH: 1,
    /** Server→client slow-path data after X.224/MCS: one or more share-control PDUs. */
    SERVER_SLOWPATH: 2,
    /** A client→server fast-path input PDU (TS_FP_INPUT_PDU incl. header). */
    CLIENT_FASTPATH_INPUT: 3,
    /** Client→server slow-path input: share-control PDU(s) carrying TS_INPUT_PDU_DATA. */
    CLIENT_SLOWPATH_INPUT: 4,
    /** u16 width | u16 height | u16 bpp (see encodeScreenResize). */
    SCREEN_RESIZE: 5,
    /** u16 channel id | data (see encodeChannelData); ids map to header.channels. */
    CHANNEL_DATA: 6,
    /** UTF-8 JSON object: keystrokes, clipboard, file names… (see encodeMeta). */
    META: 7,
    /** Clean end of recording; empty payload; nothing may follow. */
    END: 8
  };
  var KNOWN_TYPES = new Set(Object.values(RecordType));
  function isRecordType(n) {
    return KNOWN_TYPES.has(n);
  }
  var RecordingFormatError = class extends Error {
    code;
    offset;
    name;
    constructor(code, message, offset) {
      super(offset === void 0 ? message : `${message} (at byte ${offset})`), this.code = code, this.offset = offset, this.name = "RecordingFormatError";
    }
  };
  var isInt = (v, min, max) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
  function validateHeader(h) {
    const bad = (field) => {
      throw new RecordingFormatError("bad_header", `header field ${field} is missing or invalid`);
    };
    if (typeof h !== "object" || h === null || Array.isArray(h)) bad("(root)");
    const o = h;
    if (typeof o.startedAt !== "string" || Number.isNaN(Date.parse(o.startedAt))) bad("startedAt");
    if (!isInt(o.width, 1, 65535)) bad("width");
    if (!isInt(o.height, 1, 65535)) bad("height");
    if (!isInt(o.colorDepth, 1, 32)) bad("colorDepth");
    if (typeof o.sessionId !== "string") bad("sessionId");
    const src = o.source;
    if (typeof src !== "object" || src === null || typeof src.address !== "string") bad("source");
    const dst = o.target;
    if (typeof dst !== "object" || dst === null || typeof dst.host !== "string" || !isInt(dst.port, 0, 65535)) {
      bad("target");
    }
    if (!Array.isArray(o.channels)) bad("channels");
    for (const c of o.channels) {
      const ch = c;
      if (typeof ch !== "object" || ch === null || !isInt(ch.id, 0, 65535) || typeof ch.name !== "string") {
        bad("channels");
      }
    }
    for (const k of [
      "clientCoreData",
      "serverCoreData"
    ]) {
      const g = o[k];
      if (g === void 0) continue;
      if (typeof g !== "object" || g === null || typeof g.base64 !== "string" || typeof g.summary !== "object") {
        bad(k);
      }
    }
    return o;
  }
  function decodeScreenResize(p) {
    if (p.length !== 6) throw new RecordingFormatError("bad_payload", "SCREEN_RESIZE payload must be 6 bytes");
    const dv = new DataView(p.buffer, p.byteOffset, p.length);
    return {
      width: dv.getUint16(0, true),
      height: dv.getUint16(2, true),
      bpp: dv.getUint16(4, true)
    };
  }

  // recorder/rdp_render/errors.ts
  var RenderError = class extends Error {
    code;
    name;
    constructor(code, message) {
      super(message), this.code = code, this.name = "RenderError";
    }
  };
  var malformed = (message) => new RenderError("malformed", message);
  var unsupported = (message) => new RenderError("unsupported_update", message);

  // recorder/rdp_render/interleaved.ts
  var REGULAR_BG_RUN = 0;
  var REGULAR_FG_RUN = 1;
  var REGULAR_FGBG_IMAGE = 2;
  var REGULAR_COLOR_RUN = 3;
  var REGULAR_COLOR_IMAGE = 4;
  var LITE_SET_FG_FG_RUN = 12;
  var LITE_SET_FG_FGBG_IMAGE = 13;
  var LITE_DITHERED_RUN = 14;
  var MEGA_MEGA_BG_RUN = 240;
  var MEGA_MEGA_FG_RUN = 241;
  var MEGA_MEGA_FGBG_IMAGE = 242;
  var MEGA_MEGA_COLOR_RUN = 243;
  var MEGA_MEGA_COLOR_IMAGE = 244;
  var MEGA_MEGA_SET_FG_RUN = 246;
  var MEGA_MEGA_SET_FGBG_IMAGE = 247;
  var MEGA_MEGA_DITHERED_RUN = 248;
  var SPECIAL_FGBG_1 = 249;
  var SPECIAL_FGBG_2 = 250;
  var SPECIAL_WHITE = 253;
  var SPECIAL_BLACK = 254;
  function codeOf(hdr) {
    if ((hdr & 192) !== 192) return hdr >> 5;
    if ((hdr & 240) === 240) return hdr;
    return hdr >> 4;
  }
  function decodeInterleaved(src, width, height, bpp) {
    if (bpp === 8) throw unsupported("8 bpp interleaved RLE needs a palette");
    if (bpp !== 15 && bpp !== 16 && bpp !== 24) throw malformed(`interleaved RLE at ${bpp} bpp`);
    const bpx = bpp === 24 ? 3 : 2;
    const rowDelta = width * bpx;
    const dst = new Uint8Array(rowDelta * height);
    const white = bpp === 24 ? 16777215 : bpp === 16 ? 65535 : 32767;
    let s = 0;
    let d = 0;
    let fgPel = white;
    let insertFgPel = false;
    let firstLine = true;
    const srcPixel = () => {
      if (s + bpx > src.length) throw new RenderError("truncated", "RLE pixel value past end of data");
      const v = bpx === 2 ? src[s] | src[s + 1] << 8 : src[s] | src[s + 1] << 8 | src[s + 2] << 16;
      s += bpx;
      return v;
    };
    const srcByte = () => {
      if (s >= src.length) throw new RenderError("truncated", "RLE order past end of data");
      return src[s++];
    };
    const room = (pixels) => {
      if (d + pixels * bpx > dst.length) throw malformed("RLE run writes past the end of the bitmap");
    };
    const above = () => {
      const i = d - rowDelta;
      return bpx === 2 ? dst[i] | dst[i + 1] << 8 : dst[i] | dst[i + 1] << 8 | dst[i + 2] << 16;
    };
    const put = (v) => {
      dst[d] = v & 255;
      dst[d + 1] = v >> 8 & 255;
      if (bpx === 3) dst[d + 2] = v >> 16 & 255;
      d += bpx;
    };
    const fgBg = (mask, count) => {
      room(count);
      for (let i = 0; i < count; i++) {
        const bit = mask >> i & 1;
        if (firstLine) put(bit ? fgPel : 0);
        else put(bit ? above() ^ fgPel : above());
      }
    };
    const runLength = (code) => {
      const hdr = srcByte();
      switch (code) {
        case REGULAR_FGBG_IMAGE: {
          const n = hdr & 31;
          return n === 0 ? srcByte() + 1 : n * 8;
        }
        case LITE_SET_FG_FGBG_IMAGE: {
          const n = hdr & 15;
          return n === 0 ? srcByte() + 1 : n * 8;
        }
        case REGULAR_BG_RUN:
        case REGULAR_FG_RUN:
        case REGULAR_COLOR_RUN:
        case REGULAR_COLOR_IMAGE: {
          const n = hdr & 31;
          return n === 0 ? srcByte() + 32 : n;
        }
        case LITE_SET_FG_FG_RUN:
        case LITE_DITHERED_RUN: {
          const n = hdr & 15;
          return n === 0 ? srcByte() + 16 : n;
        }
        default: {
          const lo = srcByte();
          return lo | srcByte() << 8;
        }
      }
    };
    while (s < src.length) {
      if (firstLine && d >= rowDelta) {
        firstLine = false;
        insertFgPel = false;
      }
      const code = codeOf(src[s]);
      if (code === REGULAR_BG_RUN || code === MEGA_MEGA_BG_RUN) {
        let n = runLength(code);
        room(n);
        if (insertFgPel && n > 0) {
          put(firstLine ? fgPel : above() ^ fgPel);
          n--;
        }
        for (; n > 0; n--) put(firstLine ? 0 : above());
        insertFgPel = true;
        continue;
      }
      insertFgPel = false;
      switch (code) {
        case REGULAR_FG_RUN:
        case MEGA_MEGA_FG_RUN:
        case LITE_SET_FG_FG_RUN:
        case MEGA_MEGA_SET_FG_RUN: {
          const n = runLength(code);
          if (code === LITE_SET_FG_FG_RUN || code === MEGA_MEGA_SET_FG_RUN) fgPel = srcPixel();
          room(n);
          for (let i = 0; i < n; i++) put(firstLine ? fgPel : above() ^ fgPel);
          break;
        }
        case LITE_DITHERED_RUN:
        case MEGA_MEGA_DITHERED_RUN: {
          const n = runLength(code);
          const a = srcPixel(), b = srcPixel();
          room(n * 2);
          for (let i = 0; i < n; i++) {
            put(a);
            put(b);
          }
          break;
        }
        case REGULAR_COLOR_RUN:
        case MEGA_MEGA_COLOR_RUN: {
          const n = runLength(code);
          const v = srcPixel();
          room(n);
          for (let i = 0; i < n; i++) put(v);
          break;
        }
        case REGULAR_FGBG_IMAGE:
        case MEGA_MEGA_FGBG_IMAGE:
        case LITE_SET_FG_FGBG_IMAGE:
        case MEGA_MEGA_SET_FGBG_IMAGE: {
          let n = runLength(code);
          if (code === LITE_SET_FG_FGBG_IMAGE || code === MEGA_MEGA_SET_FGBG_IMAGE) fgPel = srcPixel();
          if (s + Math.ceil(n / 8) > src.length) throw new RenderError("truncated", "RLE FG/BG bitmask bytes");
          room(n);
          for (; n > 0; n -= 8) fgBg(src[s++], Math.min(n, 8));
          break;
        }
        case REGULAR_COLOR_IMAGE:
        case MEGA_MEGA_COLOR_IMAGE: {
          const n = runLength(code);
          if (s + n * bpx > src.length) throw new RenderError("truncated", "RLE colour image bytes");
          room(n);
          for (let i = 0; i < n; i++) put(srcPixel());
          break;
        }
        case SPECIAL_FGBG_1:
        case SPECIAL_FGBG_2:
          s++;
          fgBg(code === SPECIAL_FGBG_1 ? 3 : 5, 8);
          break;
        case SPECIAL_WHITE:
        case SPECIAL_BLACK:
          s++;
          room(1);
          put(code === SPECIAL_WHITE ? white : 0);
          break;
        default:
          throw malformed(`invalid RLE order header 0x${src[s].toString(16)}`);
      }
    }
    return dst;
  }

  // recorder/rdp_render/pixels.ts
  var bytesPerPixel = (bpp) => {
    switch (bpp) {
      case 15:
      case 16:
        return 2;
      case 24:
        return 3;
      case 32:
        return 4;
      default:
        throw new RenderError("unsupported_update", `unsupported colour depth ${bpp} bpp`);
    }
  };
  var expand5 = (x) => (x << 3) + (x >> 2);
  var expand6 = (x) => Math.min(255, (x << 2) + (x >> 3));
  function putPixel(dst, i, bpp, v) {
    if (bpp === 16) {
      dst[i] = expand5(v >> 11 & 31);
      dst[i + 1] = expand6(v >> 5 & 63);
      dst[i + 2] = expand5(v & 31);
    } else if (bpp === 15) {
      dst[i] = expand5(v >> 10 & 31);
      dst[i + 1] = expand5(v >> 5 & 31);
      dst[i + 2] = expand5(v & 31);
    } else {
      dst[i] = v >> 16 & 255;
      dst[i + 1] = v >> 8 & 255;
      dst[i + 2] = v & 255;
    }
    dst[i + 3] = 255;
  }
  function nativeToRgba(src, stride, bpp, width, height, bottomUp) {
    const bpx = bytesPerPixel(bpp);
    if (stride < width * bpx || src.length < stride * (height - 1) + width * bpx) {
      throw new RenderError("truncated", `bitmap data too short for ${width}x${height} at ${bpp} bpp`);
    }
    const out = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      let s = (bottomUp ? height - 1 - y : y) * stride;
      let d = y * width * 4;
      for (let x = 0; x < width; x++, s += bpx, d += 4) {
        if (bpx === 2) putPixel(out, d, bpp, src[s] | src[s + 1] << 8);
        else {
          out[d] = src[s + 2];
          out[d + 1] = src[s + 1];
          out[d + 2] = src[s];
          out[d + 3] = 255;
        }
      }
    }
    return out;
  }

  // recorder/rdp_render/planar.ts
  var CS = 8;
  var RLE = 16;
  var NA = 32;
  var scratch = new Uint8Array(0);
  var LITTLE_ENDIAN = new Uint8Array(new Uint32Array([
    1
  ]).buffer)[0] === 1;
  function decodePlanar(src, width, height, into) {
    if (src.length < 1) throw new RenderError("truncated", "planar bitmap without format header");
    const hdr = src[0];
    const cll = hdr & 7;
    const cs = (hdr & CS) !== 0;
    if (cs && cll === 0) throw malformed("planar chroma subsampling requires a colour loss level");
    const cw = cs ? width + 1 >> 1 : width;
    const ch = cs ? height + 1 >> 1 : height;
    const dims = [
      [
        width,
        height
      ],
      [
        cw,
        ch
      ],
      [
        cw,
        ch
      ]
    ];
    if (!(hdr & NA)) dims.unshift([
      width,
      height
    ]);
    if (hdr & RLE) {
      const need = dims.reduce((n, [w, h]) => n + w * h, 0);
      if (scratch.length < need) scratch = new Uint8Array(need);
    }
    const planes = [];
    let pos = 1, at = 0;
    for (const [w, h] of dims) {
      if (hdr & RLE) {
        const plane = scratch.subarray(at, at + w * h);
        at += w * h;
        pos = decodeRlePlane(src, pos, w, h, plane).end;
        planes.push(plane);
      } else {
        if (pos + w * h > src.length) throw new RenderError("truncated", "planar raw plane past end of data");
        planes.push(src.subarray(pos, pos + w * h));
        pos += w * h;
      }
    }
    const alpha = hdr & NA ? null : planes.shift();
    const [p0, p1, p2] = planes;
    const t = into ?? {
      rgba: new Uint8Array(width * height * 4),
      width,
      x: 0,
      y: 0
    };
    const out = t.rgba, stride = t.width;
    if (out.byteOffset % 4 || t.x < 0 || t.y < 0 || t.x + width > stride || (t.y + height) * stride * 4 > out.length) throw new RangeError("planar bitmap does not fit its target");
    const px = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
    const last = (t.y + height - 1) * stride + t.x;
    if (cll === 0) argb(px, last, stride, p0, p1, p2, width, height);
    else ycocg(px, last, stride, p0, p1, p2, width, height, cll - 1, cs ? cw : 0);
    if (alpha) {
      for (let py = 0; py < height; py++) {
        const d = (last - py * stride) * 4 + 3, row = py * width;
        for (let x = 0; x < width; x++) out[d + x * 4] = alpha[row + x];
      }
    }
    return out;
  }
  var pack = (r, g, b) => LITTLE_ENDIAN ? 4278190080 | b << 16 | g << 8 | r : r << 24 | g << 16 | b << 8 | 255;
  function argb(px, last, stride, r, g, b, width, height) {
    for (let py = 0; py < height; py++) {
      const d = last - py * stride, row = py * width;
      for (let x = 0; x < width; x++) px[d + x] = pack(r[row + x], g[row + x], b[row + x]);
    }
  }
  function ycocg(px, last, stride, yp, cop, cgp, width, height, shift, cw) {
    for (let py = 0; py < height; py++) {
      const d = last - py * stride, row = py * width, crow = cw ? (py >> 1) * cw : row;
      for (let x = 0; x < width; x++) {
        const ci = cw ? crow + (x >> 1) : row + x;
        const co = cop[ci] << shift << 24 >> 24;
        const cg = cgp[ci] << shift << 24 >> 24;
        const y = yp[row + x];
        const t = y - cg;
        px[d + x] = pack(clamp(t - co), clamp(y + cg), clamp(t + co));
      }
    }
  }
  var clamp = (v) => v < 0 ? 0 : v > 255 ? 255 : v;
  function decodeRlePlane(src, start, width, height, plane = new Uint8Array(width * height)) {
    let pos = start;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      let x = 0;
      let last = 0;
      while (x < width) {
        if (pos >= src.length) throw new RenderError("truncated", "planar RLE segment past end of data");
        const ctrl = src[pos++];
        let run = ctrl & 15;
        let raw = ctrl >> 4;
        if (run === 1 || run === 2) {
          run = run * 16 + raw;
          raw = 0;
        }
        if (run + raw === 0) throw malformed("planar RLE control byte is zero");
        if (x + raw + run > width) throw malformed("planar RLE segment runs past the scan line");
        if (pos + raw > src.length) throw new RenderError("truncated", "planar RLE raw bytes past end of data");
        let i = row + x;
        x += raw + run;
        if (y === 0) {
          for (; raw > 0; raw--) plane[i++] = last = src[pos++];
          if (run < 16) {
            for (const e = i + run; i < e; i++) plane[i] = last;
          } else plane.fill(last, i, i + run);
        } else {
          for (; raw > 0; raw--, i++) {
            const v = src[pos++];
            last = v >> 1 ^ -(v & 1);
            plane[i] = plane[i - width] + last;
          }
          if (last === 0 && run >= 16) plane.copyWithin(i, i - width, i - width + run);
          else for (const e = i + run; i < e; i++) plane[i] = plane[i - width] + last;
        }
      }
    }
    return {
      plane,
      end: pos
    };
  }

  // recorder/rdp_render/bitmap.ts
  var BITMAP_COMPRESSION = 1;
  var NO_BITMAP_COMPRESSION_HDR = 1024;
  var MAX_BITMAP_PIXELS = 4 << 20;
  var tile = new Uint8Array(0);
  function applyBitmapUpdate(r, fb) {
    const count = r.u16("numberRectangles");
    const place = (b) => {
      const w = b.destRight - b.destLeft + 1, h = b.destBottom - b.destTop + 1;
      if (w === b.width && h === b.height && b.destRight < fb.width && b.destBottom < fb.height) {
        fb.touched(b.destLeft, b.destTop, w, h);
        return {
          target: {
            rgba: fb.data,
            width: fb.width,
            x: b.destLeft,
            y: b.destTop
          },
          inPlace: true
        };
      }
      const bytes = b.width * b.height * 4;
      if (tile.length < bytes) tile = new Uint8Array(bytes);
      return {
        target: {
          rgba: tile.subarray(0, bytes),
          width: b.width,
          x: 0,
          y: 0
        },
        inPlace: false
      };
    };
    for (let i = 0; i < count; i++) {
      const b = decodeBitmapData(r, place);
      if (!b.drawn) blitBitmap(fb, b);
    }
    return count;
  }
  function blitBitmap(fb, b) {
    const w = Math.min(b.destRight - b.destLeft + 1, b.width);
    const h = Math.min(b.destBottom - b.destTop + 1, b.height);
    fb.blit(b.rgba, b.width, b.destLeft, b.destTop, w, h);
  }
  function decodeBitmapData(r, place) {
    const destLeft = r.u16("destLeft"), destTop = r.u16("destTop");
    const destRight = r.u16("destRight"), destBottom = r.u16("destBottom");
    const width = r.u16("width"), height = r.u16("height");
    const bpp = r.u16("bitsPerPixel"), flags = r.u16("flags");
    const data = r.bytes(r.u16("bitmapLength"), "bitmapDataStream");
    if (destRight < destLeft || destBottom < destTop) {
      throw malformed(`bitmap destination ${destLeft},${destTop}-${destRight},${destBottom} is inverted`);
    }
    if (width === 0 || height === 0 || width * height > MAX_BITMAP_PIXELS) {
      throw malformed(`bitmap size ${width}x${height}`);
    }
    if (bpp === 8) throw unsupported("8 bpp bitmaps need a palette");
    bytesPerPixel(bpp);
    let rgba;
    if (flags & BITMAP_COMPRESSION) {
      let body = data;
      if (!(flags & NO_BITMAP_COMPRESSION_HDR)) {
        if (data.length < 8) throw new RenderError("truncated", "bitmap compression header");
        const mainBodySize = data[2] | data[3] << 8;
        if (8 + mainBodySize > data.length) throw new RenderError("truncated", "compressed bitmap body");
        body = data.subarray(8, 8 + mainBodySize);
      }
      if (bpp === 32) {
        const p = place?.({
          destLeft,
          destTop,
          destRight,
          destBottom,
          width,
          height,
          bpp
        });
        rgba = decodePlanar(body, width, height, p?.target);
        if (p?.inPlace) {
          return {
            destLeft,
            destTop,
            destRight,
            destBottom,
            width,
            height,
            bpp,
            rgba,
            drawn: true
          };
        }
      } else {
        const raw = decodeInterleaved(body, width, height, bpp);
        rgba = nativeToRgba(raw, width * bytesPerPixel(bpp), bpp, width, height, true);
      }
    } else {
      const tight = width * bytesPerPixel(bpp);
      const padded = tight + 3 & ~3;
      const stride = data.length >= padded * height ? padded : tight;
      rgba = nativeToRgba(data, stride, bpp, width, height, true);
    }
    return {
      destLeft,
      destTop,
      destRight,
      destBottom,
      width,
      height,
      bpp,
      rgba,
      drawn: false
    };
  }

  // recorder/rdp_render/byte_reader.ts
  var ByteReader = class _ByteReader {
    buf;
    #pos;
    #end;
    constructor(buf, start = 0, end = buf.length) {
      this.buf = buf;
      if (start < 0 || end > buf.length || start > end) throw new RangeError("ByteReader bounds");
      this.#pos = start;
      this.#end = end;
    }
    get pos() {
      return this.#pos;
    }
    get remaining() {
      return this.#end - this.#pos;
    }
    #need(n, what) {
      if (n < 0 || this.#pos + n > this.#end) {
        throw new RenderError("truncated", `${what}: need ${n} bytes, ${this.remaining} left`);
      }
      const at = this.#pos;
      this.#pos += n;
      return at;
    }
    u8(what = "u8") {
      return this.buf[this.#need(1, what)];
    }
    u16(what = "u16") {
      const i = this.#need(2, what);
      return this.buf[i] | this.buf[i + 1] << 8;
    }
    i16(what = "i16") {
      return this.u16(what) << 16 >> 16;
    }
    u32(what = "u32") {
      const i = this.#need(4, what);
      return (this.buf[i] | this.buf[i + 1] << 8 | this.buf[i + 2] << 16 | this.buf[i + 3] << 24) >>> 0;
    }
    /** A view (not a copy) of the next n bytes. */
    bytes(n, what = "bytes") {
      const i = this.#need(n, what);
      return this.buf.subarray(i, i + n);
    }
    skip(n, what = "skip") {
      this.#need(n, what);
    }
    /** A reader over the next n bytes; this reader moves past them. */
    sub(n, what = "sub") {
      const i = this.#need(n, what);
      return new _ByteReader(this.buf, i, i + n);
    }
  };

  // recorder/rdp_render/pointer.ts
  var MAX_POINTER_SIDE = 384;
  function readColorPointer(r, xorBpp = 24) {
    const cacheIndex = r.u16("cacheIndex");
    const hotX = r.u16("hotSpot.x"), hotY = r.u16("hotSpot.y");
    const width = r.u16("width"), height = r.u16("height");
    const lengthAnd = r.u16("lengthAndMask"), lengthXor = r.u16("lengthXorMask");
    const xorMask = r.bytes(lengthXor, "xorMaskData");
    const andMask = r.bytes(lengthAnd, "andMaskData");
    return {
      cacheIndex,
      shape: buildShape(width, height, hotX, hotY, xorBpp, xorMask, andMask)
    };
  }
  function readNewPointer(r) {
    return readColorPointer(r, r.u16("xorBpp"));
  }
  function readLargePointer(r) {
    const xorBpp = r.u16("xorBpp");
    const cacheIndex = r.u16("cacheIndex");
    const hotX = r.u16("hotSpot.x"), hotY = r.u16("hotSpot.y");
    const width = r.u16("width"), height = r.u16("height");
    const lengthAnd = r.u32("lengthAndMask"), lengthXor = r.u32("lengthXorMask");
    const xorMask = r.bytes(lengthXor, "xorMaskData");
    const andMask = r.bytes(lengthAnd, "andMaskData");
    return {
      cacheIndex,
      shape: buildShape(width, height, hotX, hotY, xorBpp, xorMask, andMask)
    };
  }
  function buildShape(width, height, hotX, hotY, xorBpp, xorMask, andMask) {
    if (width > MAX_POINTER_SIDE || height > MAX_POINTER_SIDE) throw malformed(`pointer ${width}x${height}`);
    if (xorBpp !== 1 && xorBpp !== 16 && xorBpp !== 24 && xorBpp !== 32) {
      throw xorBpp === 8 || xorBpp === 4 ? unsupported(`${xorBpp} bpp pointers need a palette`) : malformed(`pointer colour depth ${xorBpp}`);
    }
    const shape = {
      width,
      height,
      hotX: Math.min(hotX, Math.max(0, width - 1)),
      hotY: Math.min(hotY, Math.max(0, height - 1)),
      rgba: new Uint8Array(width * height * 4),
      xor: new Uint8Array(width * height)
    };
    if (width === 0 || height === 0) return shape;
    const xorStride = (width * xorBpp + 7 >> 3) + 1 & ~1;
    const andStride = (width + 7 >> 3) + 1 & ~1;
    if (xorMask.length < xorStride * height) throw new RenderError("truncated", "pointer XOR mask");
    const hasAnd = andMask.length > 0;
    if (hasAnd && andMask.length < andStride * height) throw new RenderError("truncated", "pointer AND mask");
    if (xorBpp === 1 && !hasAnd) throw malformed("monochrome pointer without AND mask");
    for (let y = 0; y < height; y++) {
      const row = xorBpp === 1 ? y : height - 1 - y;
      const xr = row * xorStride, ar = row * andStride;
      for (let x = 0; x < width; x++) {
        const and = hasAnd ? andMask[ar + (x >> 3)] >> 7 - (x & 7) & 1 : 0;
        let r, g, b, a = 255;
        if (xorBpp === 1) {
          r = g = b = xorMask[xr + (x >> 3)] >> 7 - (x & 7) & 1 ? 255 : 0;
        } else if (xorBpp === 16) {
          const v = xorMask[xr + 2 * x] | xorMask[xr + 2 * x + 1] << 8;
          [r, g, b] = [
            (v >> 10 & 31) * 8.25 | 0,
            (v >> 5 & 31) * 8.25 | 0,
            (v & 31) * 8.25 | 0
          ];
        } else {
          const s = xr + x * (xorBpp >> 3);
          [b, g, r] = [
            xorMask[s],
            xorMask[s + 1],
            xorMask[s + 2]
          ];
          if (xorBpp === 32) a = xorMask[s + 3];
        }
        const i = y * width + x;
        shape.rgba.set([
          r,
          g,
          b,
          a
        ], i * 4);
        if (and && a === 255) shape.xor[i] = 1;
      }
    }
    return shape;
  }
  function drawPointer(frame, fw, fh, p, x, y) {
    const left = x - p.hotX, top = y - p.hotY;
    for (let sy = Math.max(0, -top); sy < p.height && top + sy < fh; sy++) {
      for (let sx = Math.max(0, -left); sx < p.width && left + sx < fw; sx++) {
        const i = sy * p.width + sx, s = i * 4, d = ((top + sy) * fw + left + sx) * 4;
        if (p.xor[i]) {
          frame[d] ^= p.rgba[s];
          frame[d + 1] ^= p.rgba[s + 1];
          frame[d + 2] ^= p.rgba[s + 2];
          continue;
        }
        const a = p.rgba[s + 3];
        if (a === 0) continue;
        for (let c = 0; c < 3; c++) {
          frame[d + c] = (p.rgba[s + c] * a + frame[d + c] * (255 - a) + 127) / 255 | 0;
        }
      }
    }
  }
  var ARROW = [
    "B",
    "BB",
    "BWB",
    "BWWB",
    "BWWWB",
    "BWWWWB",
    "BWWWWWB",
    "BWWWWWWB",
    "BWWWWWWWB",
    "BWWWWWWWWB",
    "BWWWWWWWWWB",
    "BWWWWWWBBBBB",
    "BWWWBWWB",
    "BWWBBWWB",
    "BWB BWWB",
    "BB   BWWB",
    "B    BWWB",
    "      BWWB",
    "       BB"
  ];
  function defaultPointer() {
    const width = 12, height = ARROW.length;
    const rgba = new Uint8Array(width * height * 4);
    ARROW.forEach((line, y) => {
      [
        ...line
      ].forEach((ch, x) => {
        if (ch !== " ") rgba.set(ch === "W" ? [
          255,
          255,
          255,
          255
        ] : [
          0,
          0,
          0,
          255
        ], (y * width + x) * 4);
      });
    });
    return {
      width,
      height,
      hotX: 0,
      hotY: 0,
      rgba,
      xor: new Uint8Array(width * height)
    };
  }

  // recorder/rdp_render/fastpath.ts
  var FASTPATH_OUTPUT_ENCRYPTED = 2;
  var COMPRESSION_USED = 2;
  var PACKET_COMPRESSED = 32;
  var [FRAG_SINGLE, FRAG_LAST, FRAG_FIRST] = [
    0,
    1,
    2
  ];
  var MAX_REASSEMBLED_BYTES = 16 << 20;
  var UPDATE_NAMES = {
    0: "orders",
    2: "palette",
    4: "surface commands"
  };
  var FastPathParser = class {
    sink;
    #fragments;
    #fragmentBytes;
    #fragmentCode;
    /** A fragmented update has begun and not ended (its fragments so far are held here). */
    get midUpdate() {
      return this.#fragmentCode >= 0;
    }
    constructor(sink) {
      this.sink = sink;
      this.#fragments = [];
      this.#fragmentBytes = 0;
      this.#fragmentCode = -1;
    }
    /** One or more complete TS_FP_UPDATE_PDUs, each starting with its fpOutputHeader. */
    feed(bytes) {
      const r = new ByteReader(bytes);
      while (r.remaining > 0) {
        const start = r.pos;
        const hdr = r.u8("fpOutputHeader");
        if ((hdr & 3) !== 0) throw malformed(`not a fast-path PDU (action ${hdr & 3})`);
        if (hdr >> 6 & FASTPATH_OUTPUT_ENCRYPTED) {
          throw new RenderError("encrypted", "encrypted fast-path PDU (Standard RDP Security)");
        }
        const l1 = r.u8("length1");
        const length = l1 & 128 ? (l1 & 127) << 8 | r.u8("length2") : l1;
        const headerBytes = r.pos - start;
        if (length < headerBytes) throw malformed(`fast-path length ${length}`);
        this.#updates(r.sub(length - headerBytes, "fast-path PDU"));
      }
    }
    #updates(r) {
      while (r.remaining > 0) {
        const hdr = r.u8("updateHeader");
        const code = hdr & 15, frag = hdr >> 4 & 3, compression = hdr >> 6 & 3;
        if (compression & COMPRESSION_USED && r.u8("compressionFlags") & PACKET_COMPRESSED) {
          throw new RenderError("compressed", "bulk-compressed fast-path update");
        }
        const data = r.bytes(r.u16("size"), "updateData");
        if (frag === FRAG_SINGLE) {
          if (this.#fragmentCode >= 0) throw malformed("unfragmented update inside a fragmented one");
          this.#dispatch(code, data);
          continue;
        }
        if (frag === FRAG_FIRST) {
          if (this.#fragmentCode >= 0) throw malformed("FIRST fragment while another update is open");
          this.#fragmentCode = code;
        } else if (this.#fragmentCode !== code) {
          throw malformed(`fragment of update ${code} without its FIRST fragment`);
        }
        this.#fragmentBytes += data.length;
        if (this.#fragmentBytes > MAX_REASSEMBLED_BYTES) throw malformed("fragmented update too large");
        this.#fragments.push(data.slice());
        if (frag === FRAG_LAST) {
          const whole = new Uint8Array(this.#fragmentBytes);
          let pos = 0;
          for (const f of this.#fragments) [
            whole.set(f, pos),
            pos += f.length
          ];
          [this.#fragments, this.#fragmentBytes, this.#fragmentCode] = [
            [],
            0,
            -1
          ];
          this.#dispatch(code, whole);
        }
      }
    }
    #dispatch(code, data) {
      const r = new ByteReader(data);
      const s = this.sink;
      switch (code) {
        case 1: {
          const updateType = r.u16("updateType");
          if (updateType !== 1) throw malformed(`fast-path bitmap update with updateType ${updateType}`);
          s.bitmap(r);
          return;
        }
        case 3:
          return;
        case 5:
          return s.pointerHidden();
        case 6:
          return s.pointerDefault();
        case 8:
          return s.pointerPosition(r.u16("x"), r.u16("y"));
        case 9:
          return s.pointerShape(readColorPointer(r));
        case 10:
          return s.pointerCached(r.u16("cacheIndex"));
        case 11:
          return s.pointerShape(readNewPointer(r));
        case 12:
          return s.pointerShape(readLargePointer(r));
        default:
          throw code in UPDATE_NAMES ? unsupported(`unsupported update: fast-path ${UPDATE_NAMES[code]} (code ${code})`) : malformed(`unknown fast-path update code ${code}`);
      }
    }
  };

  // recorder/rdp_render/damage.ts
  var CELL = 16;
  var Damage = class {
    width;
    height;
    cols;
    rows;
    /** 1 per cell that may have changed, row-major. */
    cells;
    constructor(width, height) {
      this.width = width;
      this.height = height;
      this.cols = Math.ceil(width / CELL);
      this.rows = Math.ceil(height / CELL);
      this.cells = new Uint8Array(this.cols * this.rows);
    }
    /** Marks the cells a rectangle touches (clipped to the picture). */
    add(x, y, w, h) {
      const x0 = Math.max(0, x), y0 = Math.max(0, y);
      const x1 = Math.min(this.width, x + w), y1 = Math.min(this.height, y + h);
      if (x1 <= x0 || y1 <= y0) return;
      const c0 = Math.floor(x0 / CELL), c1 = Math.ceil(x1 / CELL);
      for (let r = Math.floor(y0 / CELL); r < Math.ceil(y1 / CELL); r++) {
        this.cells.fill(1, r * this.cols + c0, r * this.cols + c1);
      }
    }
    addAll() {
      this.cells.fill(1);
    }
    /** Marks every cell marked in `other` (a grid of the same size). */
    addFrom(other) {
      const a = this.cells, b = other.cells;
      if (a.length !== b.length) throw new RangeError("damage grids of different sizes");
      for (let i = 0; i < a.length; i++) a[i] |= b[i];
    }
    clear() {
      this.cells.fill(0);
    }
    /** How many cells are marked. */
    count() {
      let n = 0;
      for (let i = 0; i < this.cells.length; i++) n += this.cells[i];
      return n;
    }
    /**
     * Calls `fn` with the pixel rectangle of each horizontal run of marked cells, row by row: fewer,
     * longer copies than one per cell.
     */
    runs(fn) {
      const { cols, cells } = this;
      for (let r = 0; r < this.rows; r++) {
        const y = r * CELL, h = Math.min(CELL, this.height - y);
        for (let c = 0; c < cols; c++) {
          if (!cells[r * cols + c]) continue;
          const start = c;
          while (c + 1 < cols && cells[r * cols + c + 1]) c++;
          const x = start * CELL;
          fn(x, y, Math.min((c + 1) * CELL, this.width) - x, h);
        }
      }
    }
  };

  // recorder/rdp_render/framebuffer.ts
  var MAX_DESKTOP_SIDE = 8192;
  var Framebuffer = class {
    width;
    height;
    data;
    #px;
    /** Cells changed since the last takeDamage() (all of them at first and after a resize). */
    damage;
    #spare;
    constructor(width, height) {
      this.width = width;
      this.height = height;
      checkSize(width, height);
      this.data = blank(width, height);
      this.#px = new Uint32Array(this.data.buffer);
      [this.damage, this.#spare] = [
        new Damage(width, height),
        new Damage(width, height)
      ];
      this.damage.addAll();
    }
    /** The damage so far (valid until the next call); marking starts again from nothing. */
    takeDamage() {
      const taken = this.damage;
      this.#spare.clear();
      [this.damage, this.#spare] = [
        this.#spare,
        taken
      ];
      return taken;
    }
    /** Change the size, keeping the overlapping top-left content. */
    resize(width, height) {
      checkSize(width, height);
      if (width === this.width && height === this.height) return;
      const next = blank(width, height);
      const w = Math.min(width, this.width) * 4;
      for (let y = 0; y < Math.min(height, this.height); y++) {
        next.set(this.data.subarray(y * this.width * 4, y * this.width * 4 + w), y * width * 4);
      }
      [this.data, this.width, this.height] = [
        next,
        width,
        height
      ];
      this.#px = new Uint32Array(next.buffer);
      [this.damage, this.#spare] = [
        new Damage(width, height),
        new Damage(width, height)
      ];
      this.damage.addAll();
    }
    /** Copy a w×h block from a top-down RGBA source (srcWidth pixels per row) to (dx, dy), clipped. */
    blit(src, srcWidth, dx, dy, w, h) {
      const x0 = Math.max(0, dx), y0 = Math.max(0, dy);
      const x1 = Math.min(this.width, dx + w), y1 = Math.min(this.height, dy + h);
      if (x1 <= x0 || y1 <= y0) return;
      if (x1 - x0 > 64 || src.byteOffset % 4) {
        for (let y = y0; y < y1; y++) {
          const s = ((y - dy) * srcWidth + (x0 - dx)) * 4;
          this.data.set(src.subarray(s, s + (x1 - x0) * 4), (y * this.width + x0) * 4);
        }
      } else {
        const from = new Uint32Array(src.buffer, src.byteOffset, src.length >> 2), to = this.#px;
        for (let y = y0; y < y1; y++) {
          const s = (y - dy) * srcWidth + (x0 - dx) - x0, d = y * this.width;
          for (let x = x0; x < x1; x++) to[d + x] = from[s + x];
        }
      }
      this.damage.add(x0, y0, x1 - x0, y1 - y0);
    }
    /** Marks an area about to be painted directly into `data`. */
    touched(x, y, w, h) {
      this.damage.add(x, y, w, h);
    }
  };
  function checkSize(width, height) {
    if (!(Number.isInteger(width) && Number.isInteger(height)) || width < 1 || height < 1) {
      throw malformed(`invalid desktop size ${width}x${height}`);
    }
    if (width > MAX_DESKTOP_SIDE || height > MAX_DESKTOP_SIDE) {
      throw malformed(`desktop ${width}x${height} too large`);
    }
  }
  function blank(width, height) {
    const data = new Uint8Array(width * height * 4);
    new DataView(data.buffer).setUint32(0, 255);
    new Uint32Array(data.buffer).fill(new Uint32Array(data.buffer, 0, 1)[0]);
    return data;
  }

  // recorder/rdp_render/slowpath.ts
  var PDUTYPE_DEMANDACTIVE = 1;
  var PDUTYPE_DATA = 7;
  var PDUTYPE2_UPDATE = 2;
  var PDUTYPE2_INPUT = 28;
  var PDUTYPE2_POINTER = 27;
  var PACKET_COMPRESSED2 = 32;
  var FLOW_MARKER = 32768;
  var CAPSTYPE_BITMAP = 2;
  function* sharePdus(bytes) {
    const r = new ByteReader(bytes);
    while (r.remaining > 0) {
      const totalLength = r.u16("totalLength");
      if (totalLength === FLOW_MARKER) {
        r.skip(6, "flow PDU");
        continue;
      }
      if (totalLength < 4) throw malformed(`share control totalLength ${totalLength}`);
      const pdu = r.sub(totalLength - 2, "share control PDU");
      const type = pdu.u16("pduType") & 15;
      if (pdu.remaining >= 2) pdu.skip(2);
      yield {
        type,
        body: pdu
      };
    }
  }
  function shareDataType(r) {
    r.skip(4 + 1 + 1 + 2, "share data header");
    const pduType2 = r.u8("pduType2");
    const compressedType = r.u8("compressedType");
    r.skip(2, "compressedLength");
    if (compressedType & PACKET_COMPRESSED2) {
      throw new RenderError("compressed", "bulk-compressed share data PDU");
    }
    return pduType2;
  }
  function feedSlowPath(bytes, sink) {
    for (const { type, body } of sharePdus(bytes)) {
      if (type === PDUTYPE_DEMANDACTIVE) {
        const size = demandActiveDesktop(body);
        sink.desktopSize(size.width, size.height, size.bpp);
      } else if (type === PDUTYPE_DATA) {
        const pduType2 = shareDataType(body);
        if (pduType2 === PDUTYPE2_UPDATE) update(body, sink);
        else if (pduType2 === PDUTYPE2_POINTER) pointer(body, sink);
      }
    }
  }
  function update(r, sink) {
    const updateType = r.u16("updateType");
    switch (updateType) {
      case 1:
        return sink.bitmap(r);
      case 3:
        return;
      case 0:
        throw unsupported("unsupported update: slow-path orders");
      case 2:
        throw unsupported("unsupported update: slow-path palette");
      default:
        throw malformed(`unknown slow-path updateType ${updateType}`);
    }
  }
  function pointer(r, sink) {
    const messageType = r.u16("messageType");
    r.skip(2, "pad2Octets");
    switch (messageType) {
      case 1: {
        const sys = r.u32("systemPointerType");
        if (sys === 0) return sink.pointerHidden();
        if (sys === 32512) return sink.pointerDefault();
        throw malformed(`unknown system pointer 0x${sys.toString(16)}`);
      }
      case 3:
        return sink.pointerPosition(r.u16("x"), r.u16("y"));
      case 6:
        return sink.pointerShape(readColorPointer(r));
      case 7:
        return sink.pointerCached(r.u16("cacheIndex"));
      case 8:
        return sink.pointerShape(readNewPointer(r));
      case 9:
        return sink.pointerShape(readLargePointer(r));
      default:
        throw malformed(`unknown pointer messageType ${messageType}`);
    }
  }
  function demandActiveDesktop(r) {
    r.skip(4, "shareId");
    const lengthSourceDescriptor = r.u16("lengthSourceDescriptor");
    r.skip(2, "lengthCombinedCapabilities");
    r.skip(lengthSourceDescriptor, "sourceDescriptor");
    const count = r.u16("numberCapabilities");
    r.skip(2, "pad2Octets");
    for (let i = 0; i < count; i++) {
      const capType = r.u16("capabilitySetType");
      const length = r.u16("lengthCapability");
      if (length < 4) throw malformed(`capability set length ${length}`);
      const cap = r.sub(length - 4, "capability set");
      if (capType !== CAPSTYPE_BITMAP) continue;
      const bpp = cap.u16("preferredBitsPerPixel");
      cap.skip(6, "receive1/4/8BitPerPixel");
      return {
        width: cap.u16("desktopWidth"),
        height: cap.u16("desktopHeight"),
        bpp
      };
    }
    throw malformed("Demand Active without a Bitmap Capability Set");
  }

  // recorder/rdp_render/input.ts
  var FASTPATH_INPUT_ENCRYPTED = 2;
  var PTRFLAGS_WHEEL = 512;
  var PTRFLAGS_HWHEEL = 1024;
  function lastFastPathPointer(bytes) {
    const r = new ByteReader(bytes);
    let last = null;
    while (r.remaining > 0) {
      const start = r.pos;
      const hdr = r.u8("fpInputHeader");
      if ((hdr & 3) !== 0) throw malformed(`not a fast-path input PDU (action ${hdr & 3})`);
      if (hdr >> 6 & FASTPATH_INPUT_ENCRYPTED) {
        throw new RenderError("encrypted", "encrypted fast-path input");
      }
      const l1 = r.u8("length1");
      const length = l1 & 128 ? (l1 & 127) << 8 | r.u8("length2") : l1;
      if (length < r.pos - start) throw malformed(`fast-path input length ${length}`);
      const pdu = r.sub(length - (r.pos - start), "fast-path input PDU");
      let events = hdr >> 2 & 15;
      if (events === 0) events = pdu.u8("numEvents");
      for (let i = 0; i < events; i++) {
        const eh = pdu.u8("eventHeader");
        switch (eh >> 5) {
          case 0:
            pdu.skip(1);
            break;
          case 1:
          case 2: {
            const flags = pdu.u16("pointerFlags"), x = pdu.u16("xPos"), y = pdu.u16("yPos");
            if (!(flags & (PTRFLAGS_WHEEL | PTRFLAGS_HWHEEL))) last = {
              x,
              y
            };
            break;
          }
          case 3:
            break;
          case 4:
            pdu.skip(2);
            break;
          case 6:
            pdu.skip(4);
            break;
          case 7:
            pdu.skip(6);
            break;
          default:
            throw malformed(`unknown fast-path input event ${eh >> 5}`);
        }
      }
    }
    return last;
  }
  function lastSlowPathPointer(bytes) {
    let last = null;
    for (const { type, body } of sharePdus(bytes)) {
      if (type !== PDUTYPE_DATA || shareDataType(body) !== PDUTYPE2_INPUT) continue;
      const n = body.u16("numEvents");
      body.skip(2, "pad2Octets");
      for (let i = 0; i < n; i++) {
        body.skip(4, "eventTime");
        const messageType = body.u16("messageType");
        const ev = body.sub(6, "input event");
        if (messageType === 32769 || messageType === 32770) {
          const flags = ev.u16("pointerFlags"), x = ev.u16("xPos"), y = ev.u16("yPos");
          if (!(flags & (PTRFLAGS_WHEEL | PTRFLAGS_HWHEEL))) last = {
            x,
            y
          };
        }
      }
    }
    return last;
  }

  // recorder/rdp_render/renderer.ts
  var MAX_POINTER_CACHE = 128;
  function createRenderer(opts) {
    return new RendererImpl(opts.width, opts.height);
  }
  function restoreRenderer(s) {
    const r = new RendererImpl(s.width, s.height);
    if (s.rgba.length !== s.width * s.height * 4) throw malformed("snapshot picture size");
    r.fb.data.set(s.rgba);
    r.pointer = {
      ...s.pointer
    };
    for (const [slot, shape] of s.cache) {
      if (slot < 0 || slot >= MAX_POINTER_CACHE) throw malformed(`pointer cache index ${slot}`);
      r.cacheSet(slot, shape);
    }
    return r;
  }
  var RendererImpl = class {
    fb;
    dirty = true;
    pointer = {
      visible: true,
      x: 0,
      y: 0,
      shape: defaultPointer()
    };
    #cache = /* @__PURE__ */ new Map();
    #fastPath = new FastPathParser(this);
    /** The last frame: kept and refreshed where damaged, rather than copied whole each time. */
    #out = new Uint8Array(0);
    /** Where the pointer was drawn into #out (to restore from the framebuffer). */
    #drawn = null;
    constructor(width, height) {
      this.fb = new Framebuffer(width, height);
    }
    get width() {
      return this.fb.width;
    }
    get height() {
      return this.fb.height;
    }
    feedServerFastPath(pdu) {
      this.#fastPath.feed(pdu);
    }
    feedServerSlowPath(pdu) {
      feedSlowPath(pdu, this);
    }
    feedClientInput(pdu, path = "fastpath") {
      const p = path === "fastpath" ? lastFastPathPointer(pdu) : lastSlowPathPointer(pdu);
      if (p) this.pointerPosition(p.x, p.y);
    }
    resize(width, height) {
      if (width === this.fb.width && height === this.fb.height) return;
      this.fb.resize(width, height);
      this.dirty = true;
    }
    frame() {
      const { width, height, data } = this.fb;
      const damage = this.fb.takeDamage();
      if (this.#out.length !== data.length) {
        this.#out = new Uint8Array(data.length);
        damage.addAll();
      }
      if (this.#drawn) damage.add(this.#drawn.x, this.#drawn.y, this.#drawn.w, this.#drawn.h);
      const p = this.pointer;
      this.#drawn = p.visible ? {
        x: p.x - p.shape.hotX,
        y: p.y - p.shape.hotY,
        w: p.shape.width,
        h: p.shape.height
      } : null;
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
      return {
        width,
        height,
        rgba: out,
        damage
      };
    }
    get midUpdate() {
      return this.#fastPath.midUpdate;
    }
    snapshot() {
      if (this.midUpdate) throw new RenderError("malformed", "no snapshot inside a fragmented update");
      const { width, height, data } = this.fb;
      return {
        width,
        height,
        rgba: data.slice(),
        pointer: {
          ...this.pointer
        },
        cache: [
          ...this.#cache
        ]
      };
    }
    cacheSet(slot, shape) {
      this.#cache.set(slot, shape);
    }
    // UpdateSink
    bitmap(r) {
      if (applyBitmapUpdate(r, this.fb) > 0) this.dirty = true;
    }
    pointerHidden() {
      if (this.pointer.visible) [this.pointer.visible, this.dirty] = [
        false,
        true
      ];
    }
    pointerDefault() {
      this.#show(defaultPointer());
    }
    pointerPosition(x, y) {
      if (x === this.pointer.x && y === this.pointer.y) return;
      [this.pointer.x, this.pointer.y] = [
        x,
        y
      ];
      if (this.pointer.visible) this.dirty = true;
    }
    pointerShape({ cacheIndex, shape }) {
      if (cacheIndex >= MAX_POINTER_CACHE) throw malformed(`pointer cache index ${cacheIndex}`);
      this.#cache.set(cacheIndex, shape);
      this.#show(shape);
    }
    pointerCached(cacheIndex) {
      const shape = this.#cache.get(cacheIndex);
      if (!shape) throw new RenderError("pointer_cache_miss", `pointer cache slot ${cacheIndex} is empty`);
      this.#show(shape);
    }
    desktopSize(width, height, _bpp) {
      this.resize(width, height);
    }
    #show(shape) {
      this.pointer.shape = shape;
      this.pointer.visible = true;
      this.dirty = true;
    }
  };

  // web/player/canvas_painter.ts
  var CanvasPainter = class {
    canvas;
    ctx;
    #image;
    constructor(canvas) {
      this.canvas = canvas;
      this.#image = null;
      this.ctx = canvas.getContext("2d");
    }
    /** Draw a frame; `whole` after anything but the next frame of the same renderer. */
    draw(f, whole = false) {
      if (this.canvas.width !== f.width || this.canvas.height !== f.height) {
        [this.canvas.width, this.canvas.height] = [
          f.width,
          f.height
        ];
        this.#image = null;
      }
      if (whole || !this.#image || this.#image.data.buffer !== f.rgba.buffer) {
        this.#image = new ImageData(new Uint8ClampedArray(f.rgba.buffer, f.rgba.byteOffset, f.rgba.length), f.width, f.height);
        this.ctx.putImageData(this.#image, 0, 0);
        return;
      }
      const d = f.damage;
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let r = 0; r < d.rows; r++) {
        for (let c = 0; c < d.cols; c++) {
          if (!d.cells[r * d.cols + c]) continue;
          [x0, y0, x1, y1] = [
            Math.min(x0, c),
            Math.min(y0, r),
            Math.max(x1, c),
            Math.max(y1, r)
          ];
        }
      }
      if (x1 >= 0) {
        this.ctx.putImageData(this.#image, 0, 0, x0 * CELL, y0 * CELL, (x1 - x0 + 1) * CELL, (y1 - y0 + 1) * CELL);
      }
    }
  };

  // recorder/rdp_replay/apply.ts
  function applyRecord(r, type, payload) {
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
      default:
        return;
    }
  }

  // recorder/rdp_replay/keyframe.ts
  var VERSION = 1;
  function decodeKeyframe(b) {
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    let o = 0;
    const need = (n) => {
      if (o + n > b.length) throw new RenderError("truncated", "keyframe ends early");
    };
    const u8 = () => (need(1), dv.getUint8(o++));
    const u16 = () => (need(2), o += 2, dv.getUint16(o - 2, true));
    const bytes = (n) => (need(n), o += n, b.slice(o - n, o));
    const shape = () => {
      const width2 = u16(), height2 = u16(), hotX = u16(), hotY = u16();
      return {
        width: width2,
        height: height2,
        hotX,
        hotY,
        rgba: bytes(width2 * height2 * 4),
        xor: bytes(width2 * height2)
      };
    };
    if (u8() !== VERSION) throw new RenderError("malformed", "unknown keyframe version");
    const width = u16(), height = u16();
    const visible = u8() === 1, x = u16(), y = u16();
    const pointer2 = {
      visible,
      x,
      y,
      shape: shape()
    };
    const cache = [];
    for (let n = u16(); n > 0; n--) cache.push([
      u16(),
      shape()
    ]);
    const rgba = bytes(width * height * 4);
    if (o !== b.length) throw new RenderError("malformed", "bytes after the keyframe picture");
    return {
      width,
      height,
      rgba,
      pointer: pointer2,
      cache
    };
  }

  // recorder/rdp_replay/record_stream.ts
  var RecordStream = class {
    header = null;
    complete = false;
    #buf = new Uint8Array(0);
    #start = 0;
    #end = 0;
    #pos;
    #lastOffset = 0;
    /** `from`: the file offset of the first byte pushed; 0 reads the header first, else a record boundary. */
    constructor(from = 0, opts = {}) {
      this.#pos = from;
      if (from !== 0) {
        if (!opts.header) throw new RangeError("a stream started inside the file needs the header");
        this.header = opts.header;
        this.#lastOffset = opts.lastOffsetMillis ?? 0;
      }
    }
    /** Bytes consumed so far (file offset of the next record). */
    get position() {
      return this.#pos;
    }
    /** Add bytes; then call next() until it returns null. */
    push(chunk) {
      const avail = this.#end - this.#start;
      if (this.#buf.length - this.#end < chunk.length) {
        const need = avail + chunk.length;
        const next = need > this.#buf.length ? new Uint8Array(Math.max(need, this.#buf.length * 2)) : this.#buf;
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
        [this.#start, this.#end] = [
          0,
          avail
        ];
      }
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
    }
    /** The next whole record, or null when more bytes are needed (or after END). */
    next() {
      if (this.header === null && !this.#readPreamble()) return null;
      const b = this.#buf, s = this.#start, at = this.#pos;
      if (this.#end - s < RECORD_HEADER_BYTES) return null;
      if (this.complete) throw new RecordingFormatError("bad_record", "data after END record", at);
      const type = b[s], offsetMillis = u32(b, s + 1), length = u32(b, s + 5);
      if (!isRecordType(type)) throw new RecordingFormatError("bad_record", `unknown record type ${type}`, at);
      if (length > MAX_RECORD_BYTES) {
        throw new RecordingFormatError("bad_record", `record length ${length}`, at);
      }
      if (offsetMillis < this.#lastOffset) {
        throw new RecordingFormatError("bad_record", `time goes backwards (${offsetMillis} < ${this.#lastOffset})`, at);
      }
      if (type === RecordType.END && length !== 0) {
        throw new RecordingFormatError("bad_record", "END record with a payload", at);
      }
      if (this.#end - s < RECORD_HEADER_BYTES + length) return null;
      const payload = b.subarray(s + RECORD_HEADER_BYTES, s + RECORD_HEADER_BYTES + length);
      this.#consume(RECORD_HEADER_BYTES + length);
      this.#lastOffset = offsetMillis;
      if (type === RecordType.END) this.complete = true;
      return {
        type,
        offsetMillis,
        payload,
        fileOffset: at
      };
    }
    /** No more bytes will come: how the stream ended. */
    end() {
      const left = this.#end - this.#start;
      if (left > 0 && this.complete) {
        throw new RecordingFormatError("bad_record", "data after END record", this.#pos);
      }
      if (this.header === null && left === 0) {
        throw new RecordingFormatError("truncated_header", "file too short for a recording preamble");
      }
      return {
        complete: this.complete,
        truncated: left > 0 || this.header === null,
        position: this.#pos
      };
    }
    #readPreamble() {
      const b = this.#buf, s = this.#start, avail = this.#end - s;
      for (let i = 0; i < Math.min(avail, MAGIC.length); i++) {
        if (b[s + i] !== MAGIC[i]) throw new RecordingFormatError("bad_magic", "not a recording");
      }
      if (avail < PREAMBLE_BYTES) return false;
      const version = b[s + 8] | b[s + 9] << 8;
      if (version !== FORMAT_VERSION) {
        throw new RecordingFormatError("unsupported_version", `recording format version ${version} is not supported`);
      }
      const hdrLen = u32(b, s + 10);
      if (hdrLen > MAX_HEADER_BYTES) throw new RecordingFormatError("bad_header", `header length ${hdrLen}`);
      if (avail < PREAMBLE_BYTES + hdrLen) return false;
      let parsed;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", {
          fatal: true
        }).decode(b.subarray(s + PREAMBLE_BYTES, s + PREAMBLE_BYTES + hdrLen)));
      } catch (e) {
        throw new RecordingFormatError("bad_header", `header is not UTF-8 JSON: ${e.message}`);
      }
      this.header = validateHeader(parsed);
      this.#consume(PREAMBLE_BYTES + hdrLen);
      return true;
    }
    #consume(n) {
      this.#start += n;
      this.#pos += n;
      if (this.#start === this.#end) this.#start = this.#end = 0;
    }
  };
  function u32(b, i) {
    return (b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24) >>> 0;
  }

  // web/player/rdp_live.ts
  function base64Bytes(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function gunzip(b) {
    const s = new Blob([
      b
    ]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(s).arrayBuffer());
  }
  function startLiveView(el) {
    const painter = new CanvasPainter(el.querySelector("canvas"));
    const status = (t) => {
      const s = el.querySelector("[data-status]");
      if (s) s.textContent = t;
    };
    const state = (s) => el.dataset.state = s;
    let renderer = null;
    let stream = null;
    let whole = true, queued = false;
    let chain = Promise.resolve();
    const draw = () => {
      queued = false;
      if (!renderer) return;
      painter.draw(renderer.frame(), whole);
      whole = false;
    };
    const later = () => {
      if (!queued) [queued] = [
        true,
        requestAnimationFrame(draw)
      ];
    };
    const es = new EventSource(el.dataset.src);
    const fail = (text) => {
      es.close();
      state("error");
      status(text);
    };
    state("connecting");
    status("Connecting\u2026");
    es.addEventListener("keyframe", (ev) => {
      const k = JSON.parse(ev.data);
      chain = chain.then(async () => {
        renderer = restoreRenderer(decodeKeyframe(await gunzip(base64Bytes(k.data))));
        stream = new RecordStream(k.fileOffset, {
          header: k.header,
          lastOffsetMillis: k.t
        });
        whole = true;
        draw();
        state("live");
        status("Live: the session as it happens (about a second behind).");
      }).catch((e) => fail(`The live view failed: ${e.message}`));
    });
    es.addEventListener("b", (ev) => {
      const bytes = base64Bytes(ev.data);
      chain = chain.then(() => {
        if (!stream || !renderer) return;
        stream.push(bytes);
        for (let r; r = stream.next(); ) applyRecord(renderer, r.type, r.payload);
        el.dataset.bytes = String(stream.position);
        later();
      }).catch((e) => fail(`The live view stopped: ${e.message}`));
    });
    es.addEventListener("end", () => {
      es.close();
      chain = chain.then(() => {
        draw();
        state("ended");
        status("The session has ended; its recording can be replayed once the page is reloaded.");
      });
    });
    es.addEventListener("logged_out", () => fail("The live view stopped: your console session has ended."));
    es.addEventListener("error", (ev) => {
      const data = ev.data;
      if (typeof data === "string") fail(`The live view stopped: ${JSON.parse(data)}`);
      else if (es.readyState === EventSource.CLOSED && el.dataset.state !== "ended") {
        fail("The live view lost its connection.");
      }
    });
  }

  // recorder/rdp_replay/index_builder.ts
  var DEFAULT_KEYFRAME_MAX_BYTES = 8 << 20;
  function keyframeFor(keyframes, t) {
    let lo = 0, hi = keyframes.length - 1, found = null;
    while (lo <= hi) {
      const mid = lo + hi >> 1;
      if (keyframes[mid].t <= t) [found, lo] = [
        mid,
        mid + 1
      ];
      else hi = mid - 1;
    }
    return found;
  }

  // web/player/rdp_player.ts
  var IDLE_MS = 2e3;
  var Player = class {
    el;
    base;
    painter;
    index;
    header;
    renderer;
    /** current recording time (ms): every record at or before it is applied */
    t;
    speed;
    skipIdle;
    playing;
    #stream;
    #reader;
    #abort;
    #queue;
    #qi;
    #eof;
    /** how the bytes ended, when that is short of a whole recording */
    #endStop;
    #stopped;
    #busy;
    #pendingSeek;
    #lastTick;
    constructor(el, base) {
      this.el = el;
      this.base = base;
      this.header = null;
      this.t = 0;
      this.speed = 1;
      this.skipIdle = true;
      this.playing = false;
      this.#reader = null;
      this.#abort = null;
      this.#queue = [];
      this.#qi = 0;
      this.#eof = false;
      this.#endStop = null;
      this.#stopped = null;
      this.#busy = null;
      this.#pendingSeek = null;
      this.#lastTick = 0;
      this.painter = new CanvasPainter(el.querySelector("canvas"));
    }
    async start() {
      this.#state("loading");
      this.#status("Preparing the recording\u2026");
      const res = await fetch(`${this.base}/index`, {
        credentials: "same-origin"
      });
      if (!res.ok) throw new Error(`the recording's index could not be loaded (HTTP ${res.status})`);
      this.index = await res.json();
      const seek = this.#control("seek");
      if (seek) seek.max = String(this.index.durationMs);
      this.renderer = createRenderer({
        width: this.index.width || 1,
        height: this.index.height || 1
      });
      await this.#open(0);
      await this.#applyUntil(0);
      this.#draw();
      this.#status(this.index.stop ? `Plays up to ${clock(this.index.stop.atMillis)}: ${this.#stopText(this.index.stop)}` : "");
      this.#state("paused");
      this.#wire();
      const startMs = Number(this.el.dataset.startMs);
      if (this.el.dataset.startMs && Number.isFinite(startMs) && startMs > 0) this.seek(startMs);
      requestAnimationFrame((ts) => this.#tick(ts));
    }
    #wire() {
      this.#control("play")?.addEventListener("click", () => this.playing ? this.pause() : this.play());
      const seek = this.#control("seek");
      seek?.addEventListener("change", () => this.seek(Number(seek.value)));
      const speed = this.#control("speed");
      speed?.addEventListener("change", () => this.speed = Math.min(16, Math.max(1, Number(speed.value) || 1)));
      if (speed) this.speed = Number(speed.value) || 1;
      const idle = this.#control("idle");
      idle?.addEventListener("change", () => this.skipIdle = idle.checked);
      if (idle) this.skipIdle = idle.checked;
    }
    play() {
      if (this.#stopped !== null || this.el.dataset.state === "ended") return;
      this.playing = true;
      this.#lastTick = performance.now();
      this.#state("playing");
      this.#label("Pause");
    }
    pause() {
      this.playing = false;
      if (this.el.dataset.state === "playing") this.#state("paused");
      this.#label("Play");
    }
    seek(t) {
      this.#pendingSeek = Math.max(0, Math.min(t, this.index.durationMs));
      this.#stopped = null;
      this.#state("seeking");
    }
    #tick(ts) {
      requestAnimationFrame((n) => this.#tick(n));
      if (this.#busy) return;
      this.#busy = this.#step(ts).catch((e) => this.#fail(e)).finally(() => this.#busy = null);
    }
    async #step(now) {
      if (this.#pendingSeek !== null) {
        const target2 = this.#pendingSeek;
        this.#pendingSeek = null;
        const began = performance.now();
        await this.#seekTo(target2);
        this.el.dataset.seekMs = String(Math.round(performance.now() - began));
        if (this.#pendingSeek === null && this.#stopped === null) {
          this.#state(this.playing ? "playing" : "paused");
        }
        this.#lastTick = performance.now();
        return;
      }
      if (!this.playing) return;
      const dt = Math.min(now - this.#lastTick, 250) * this.speed;
      this.#lastTick = now;
      let target = this.t + dt;
      if (this.skipIdle) {
        const next = await this.#peek();
        if (next && next.offsetMillis - this.t > IDLE_MS) {
          target = Math.max(target, next.offsetMillis - IDLE_MS / 4);
        }
      }
      await this.#applyUntil(target);
      this.#draw();
      if (this.#stopped !== null) return;
      if (this.#eof && this.#qi >= this.#queue.length) {
        this.t = Math.max(this.t, this.index.durationMs);
        this.#showTime();
        this.playing = false;
        this.#label("Play");
        this.#state("ended");
      }
    }
    async #seekTo(target) {
      const k = keyframeFor(this.index.keyframes, target);
      const from = k === null ? null : this.index.keyframes[k];
      const forwardOnly = target >= this.t && (from === null || from.t <= this.t);
      if (!forwardOnly) {
        if (from === null) {
          this.renderer = createRenderer({
            width: this.header.width,
            height: this.header.height
          });
          await this.#open(0);
        } else {
          const res = await fetch(`${this.base}/keyframes/${k}`, {
            credentials: "same-origin"
          });
          if (!res.ok || !res.body) throw new Error(`keyframe ${k} could not be loaded (HTTP ${res.status})`);
          const raw = new Uint8Array(await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
          this.renderer = restoreRenderer(decodeKeyframe(raw));
          await this.#open(from.fileOffset, from.t);
          this.t = from.t;
        }
      }
      await this.#applyUntil(target);
      this.t = target;
      this.#draw();
    }
    /** Read the recording from a byte offset (0: from its header). */
    async #open(offset, lastOffsetMillis = 0) {
      this.#abort?.abort();
      this.#abort = new AbortController();
      this.#stream = offset === 0 ? new RecordStream() : new RecordStream(offset, {
        header: this.header,
        lastOffsetMillis
      });
      [this.#queue, this.#qi, this.#eof, this.#endStop, this.#stopped] = [
        [],
        0,
        false,
        null,
        null
      ];
      this.t = lastOffsetMillis;
      const res = await fetch(`${this.base}/raw`, {
        credentials: "same-origin",
        headers: {
          Range: `bytes=${offset}-`
        },
        signal: this.#abort.signal
      });
      if (!(res.status === 206 || res.status === 200 && offset === 0) || !res.body) {
        throw new Error(`the recording could not be read (HTTP ${res.status})`);
      }
      this.#reader = res.body.getReader();
    }
    /** The next record not applied yet (reading more when needed); null at the end. */
    async #peek() {
      while (this.#qi >= this.#queue.length) {
        if (this.#stopped !== null) return null;
        if (this.#eof) {
          if (this.#endStop) this.#stop({
            ...this.#endStop,
            atMillis: this.t
          });
          return null;
        }
        await this.#pull();
      }
      return this.#queue[this.#qi];
    }
    /** Apply every record up to `target` ms. */
    async #applyUntil(target) {
      for (; ; ) {
        if (this.#stopped !== null) return;
        const rec = this.#qi < this.#queue.length ? this.#queue[this.#qi] : await this.#peek();
        if (!rec || rec.offsetMillis > target) break;
        try {
          applyRecord(this.renderer, rec.type, rec.payload);
        } catch (e) {
          if (!(e instanceof RenderError)) throw e;
          this.#stop({
            kind: "unrenderable",
            atMillis: this.t,
            fileOffset: rec.fileOffset,
            message: `record at ${rec.offsetMillis} ms (byte ${rec.fileOffset}): ${e.message}`
          });
          return;
        }
        this.t = rec.offsetMillis;
        this.#qi++;
      }
      if (this.#stopped === null) this.t = Math.max(this.t, Math.min(target, this.index.durationMs));
      if (this.#qi > 4096) [this.#queue, this.#qi] = [
        this.#queue.slice(this.#qi),
        0
      ];
    }
    /** Read one chunk into the queue; at the end of the bytes, note how the recording ended. */
    async #pull() {
      const { done, value } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        const end = this.#stream.end();
        if (end.truncated) {
          this.#endStop = {
            kind: "truncated",
            atMillis: 0,
            fileOffset: end.position,
            message: `the file ends inside a record at byte ${end.position} (it was cut short)`
          };
        }
        return;
      }
      this.#stream.push(value);
      try {
        for (let r; r = this.#stream.next(); ) this.#queue.push({
          ...r,
          payload: r.payload.slice()
        });
      } catch (e) {
        if (!(e instanceof RecordingFormatError)) throw e;
        this.#eof = true;
        this.#reader.cancel().catch(() => {
        });
        this.#endStop = {
          kind: "damaged",
          atMillis: 0,
          fileOffset: this.#stream.position,
          message: e.message
        };
      }
      this.header ??= this.#stream.header;
    }
    #stop(s) {
      this.#stopped = this.#stopText(s);
      this.playing = false;
      this.#label("Play");
      this.#state("stopped");
      this.#status(`Playback stopped at ${clock(s.atMillis)}: ${this.#stopped}`);
      this.el.dataset.stopOffset = String(s.fileOffset);
    }
    #stopText(s) {
      const what = s.kind === "truncated" ? "the recording is truncated" : s.kind === "damaged" ? "the recording is damaged" : "an update could not be drawn";
      return `${what}; ${s.message}. Nothing after this point can be shown.`;
    }
    #draw() {
      this.painter.draw(this.renderer.frame());
      this.#showTime();
    }
    #showTime() {
      this.el.dataset.t = String(Math.round(this.t));
      const time = this.el.querySelector("[data-time]");
      if (time) time.textContent = `${clock(this.t)} / ${clock(this.index.durationMs)}`;
      const seek = this.#control("seek");
      if (seek && document.activeElement !== seek) seek.value = String(Math.round(this.t));
    }
    #fail(e) {
      this.playing = false;
      this.#state("error");
      this.#status(`The player failed: ${e.message}`);
    }
    #state(s) {
      this.el.dataset.state = s;
    }
    #status(text) {
      const s = this.el.querySelector("[data-status]");
      if (s) s.textContent = text;
    }
    #label(text) {
      const b = this.#control("play");
      if (b) b.textContent = text;
    }
    #control(act) {
      return this.el.querySelector(`[data-act="${act}"]`);
    }
  };
  function clock(ms) {
    const s = Math.floor(ms / 1e3);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
  }
  for (const el of document.querySelectorAll(".rdp-live[data-src]")) startLiveView(el);
  var players = /* @__PURE__ */ new Map();
  for (const el of document.querySelectorAll(".rdp-player[data-base]")) {
    const p = new Player(el, el.dataset.base);
    players.set(el.id.replace("rdp-player-", ""), p);
    p.start().catch((e) => {
      el.dataset.state = "error";
      const s = el.querySelector("[data-status]");
      if (s) s.textContent = `The player could not start: ${e.message}`;
    });
  }
  for (const b of document.querySelectorAll("[data-seek-rec][data-seek-ms]")) {
    b.addEventListener("click", () => {
      const p = players.get(b.dataset.seekRec);
      if (p?.index) p.seek(Number(b.dataset.seekMs));
    });
  }
})();
