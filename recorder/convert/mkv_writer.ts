// Minimal streaming Matroska muxer for raw RGBA video with explicit per-frame timestamps.
//
// Why: the converter only emits a frame when the screen changed, so frames are irregular in time.
// Raw video on a pipe has no timestamps (ffmpeg would number frames at a fixed rate), and padding
// idle time with duplicate frames would push gigabytes through the pipe for a long idle session.
// Wrapping each frame in a Matroska BlockGroup carries its true time and duration (ms) at ~25 bytes
// of overhead; ffmpeg reads it from stdin (-f matroska) and encodes variable frame rate, so an idle
// hour is one long frame. Segment and clusters use the "unknown size" form, so nothing needs to be
// seeked back and patched.

const ID = {
  EBML: [0x1a, 0x45, 0xdf, 0xa3],
  EBMLVersion: [0x42, 0x86],
  EBMLReadVersion: [0x42, 0xf7],
  EBMLMaxIDLength: [0x42, 0xf2],
  EBMLMaxSizeLength: [0x42, 0xf3],
  DocType: [0x42, 0x82],
  DocTypeVersion: [0x42, 0x87],
  DocTypeReadVersion: [0x42, 0x85],
  Segment: [0x18, 0x53, 0x80, 0x67],
  Info: [0x15, 0x49, 0xa9, 0x66],
  TimestampScale: [0x2a, 0xd7, 0xb1],
  MuxingApp: [0x4d, 0x80],
  WritingApp: [0x57, 0x41],
  Tracks: [0x16, 0x54, 0xae, 0x6b],
  TrackEntry: [0xae],
  TrackNumber: [0xd7],
  TrackUID: [0x73, 0xc5],
  TrackType: [0x83],
  FlagLacing: [0x9c],
  CodecID: [0x86],
  Video: [0xe0],
  PixelWidth: [0xb0],
  PixelHeight: [0xba],
  ColourSpace: [0x2e, 0xb5, 0x24],
  Cluster: [0x1f, 0x43, 0xb6, 0x75],
  Timestamp: [0xe7],
  BlockGroup: [0xa0],
  Block: [0xa1],
  BlockDuration: [0x9b],
} as const;

const UNKNOWN_SIZE = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
/** Block timestamps are int16 relative to their cluster: start a new cluster well before. */
const CLUSTER_SPAN_MS = 30_000;

/** EBML variable-size integer for an element size (the all-ones value means "unknown", so avoid it). */
export function vintSize(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`EBML size ${n}`);
  for (let len = 1; len <= 8; len++) {
    if (n < 2 ** (7 * len) - 1) {
      const out: number[] = [];
      let v = n;
      for (let i = 0; i < len; i++) {
        out.unshift(v % 256);
        v = Math.floor(v / 256);
      }
      out[0] |= 0x80 >> (len - 1);
      return out;
    }
  }
  throw new RangeError(`EBML size ${n} too large`);
}

function uint(n: number): number[] {
  const out: number[] = [];
  do {
    out.unshift(n % 256);
    n = Math.floor(n / 256);
  } while (n > 0);
  return out;
}

const el = (
  id: readonly number[],
  payload: number[],
): number[] => [...id, ...vintSize(payload.length), ...payload];
const elUint = (id: readonly number[], v: number) => el(id, uint(v));
const elStr = (id: readonly number[], s: string) => el(id, [...new TextEncoder().encode(s)]);

export class MkvRawVideoWriter {
  #clusterStart = -1;
  #lastPts = 0;

  /** `format` "i420": planar YUV 4:2:0 frames of width·height·3/2 bytes (even sizes) instead of RGBA. */
  constructor(readonly width: number, readonly height: number, readonly format: "rgba" | "i420" = "rgba") {}

  /** EBML header, Segment (unknown size), Info (1 ms timestamps) and the one video track. */
  header(): Uint8Array {
    const ebml = el(ID.EBML, [
      ...elUint(ID.EBMLVersion, 1),
      ...elUint(ID.EBMLReadVersion, 1),
      ...elUint(ID.EBMLMaxIDLength, 4),
      ...elUint(ID.EBMLMaxSizeLength, 8),
      ...elStr(ID.DocType, "matroska"),
      ...elUint(ID.DocTypeVersion, 4),
      ...elUint(ID.DocTypeReadVersion, 2),
    ]);
    const info = el(ID.Info, [
      ...elUint(ID.TimestampScale, 1_000_000),
      ...elStr(ID.MuxingApp, "jumphost"),
      ...elStr(ID.WritingApp, "jumphost"),
    ]);
    const tracks = el(
      ID.Tracks,
      el(ID.TrackEntry, [
        ...elUint(ID.TrackNumber, 1),
        ...elUint(ID.TrackUID, 1),
        ...elUint(ID.TrackType, 1),
        ...elUint(ID.FlagLacing, 0),
        ...elStr(ID.CodecID, "V_UNCOMPRESSED"),
        ...el(ID.Video, [
          ...elUint(ID.PixelWidth, this.width),
          ...elUint(ID.PixelHeight, this.height),
          // FourCC "RGBA" or "I420"
          ...el(ID.ColourSpace, this.format === "i420" ? [0x49, 0x34, 0x32, 0x30] : [0x52, 0x47, 0x42, 0x41]),
        ]),
      ]),
    );
    return new Uint8Array([...ebml, ...ID.Segment, ...UNKNOWN_SIZE, ...info, ...tracks]);
  }

  /**
   * Bytes to write before one frame's width·height·4 RGBA bytes. ptsMs must not decrease;
   * durationMs (≥ 1) is how long the frame stays on screen.
   */
  frameHeader(ptsMs: number, durationMs: number): Uint8Array {
    if (!Number.isInteger(ptsMs) || ptsMs < this.#lastPts) throw new RangeError(`frame time ${ptsMs} ms`);
    if (!Number.isInteger(durationMs) || durationMs < 1) {
      throw new RangeError(`frame duration ${durationMs} ms`);
    }
    this.#lastPts = ptsMs;
    const out: number[] = [];
    if (this.#clusterStart < 0 || ptsMs - this.#clusterStart > CLUSTER_SPAN_MS) {
      this.#clusterStart = ptsMs;
      out.push(...ID.Cluster, ...UNKNOWN_SIZE, ...elUint(ID.Timestamp, ptsMs));
    }
    const rel = ptsMs - this.#clusterStart;
    const pixels = this.format === "i420" ? this.width * this.height * 3 / 2 : this.width * this.height * 4;
    const blockBytes = 4 + pixels; // track vint, int16 time, flags, pixels
    const duration = elUint(ID.BlockDuration, durationMs); // placed before the Block: order is free
    const block = [...ID.Block, ...vintSize(blockBytes)];
    out.push(
      ...ID.BlockGroup,
      ...vintSize(duration.length + block.length + blockBytes),
      ...duration,
      ...block,
    );
    out.push(0x81, (rel >> 8) & 0xff, rel & 0xff, 0x00);
    return new Uint8Array(out);
  }
}
