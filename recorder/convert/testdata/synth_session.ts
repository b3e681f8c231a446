// A synthetic but realistic RDP session recording (test and bench support): a desktop with a terminal
// window where someone types commands, reads output, scrolls back, drags a dialog around and moves the
// mouse, for a given length of time. The "server" keeps a model of the screen and sends every changed
// area as 64×64 planar tiles, as a Windows server with bitmap-only updates does; the client sends mouse
// and keyboard input. Seeded, so a given seed always gives the same file.
import { encodeMeta, openRecordingWriter, type RecordingHeader, RecordType } from "../../rdp_file.ts";
import { keyInput, mouseInput, type Rect, repaint } from "./synth_pdus.ts";

export interface SynthOptions {
  width: number;
  height: number;
  seconds: number;
  seed?: number;
}

export interface SynthStats {
  records: number;
  bytes: number;
  keystrokes: number;
  scrolls: number;
  drags: number;
}

type RGB = [number, number, number];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RGBA bytes as one little-endian u32, for Uint32Array fills. */
const packed = ([r, g, b]: RGB) => (255 << 24 | b << 16 | g << 8 | r) >>> 0;

class Screen {
  readonly px: Uint8Array;
  readonly u32: Uint32Array;
  constructor(readonly w: number, readonly h: number) {
    this.px = new Uint8Array(w * h * 4);
    this.u32 = new Uint32Array(this.px.buffer);
  }
  fill(r: Rect, rgb: RGB): void {
    const c = packed(rgb), x0 = Math.max(0, r.x), x1 = Math.min(this.w, r.x + r.w);
    if (x1 <= x0) return;
    for (let y = Math.max(0, r.y); y < Math.min(this.h, r.y + r.h); y++) {
      this.u32.fill(c, y * this.w + x0, y * this.w + x1);
    }
  }
  copyFrom(src: Screen, r: Rect): void {
    for (let y = r.y; y < r.y + r.h; y++) {
      const i = (y * this.w + r.x) * 4;
      this.px.set(src.px.subarray(i, i + r.w * 4), i);
    }
  }
}

const clip = (r: Rect, w: number, h: number): Rect => {
  const x = Math.max(0, r.x), y = Math.max(0, r.y);
  return { x, y, w: Math.max(0, Math.min(w, r.x + r.w) - x), h: Math.max(0, Math.min(h, r.y + r.h) - y) };
};
const union = (a: Rect, b: Rect): Rect => {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
};

const CHAR_W = 9, CHAR_H = 18;

export async function writeSyntheticSession(path: string, o: SynthOptions): Promise<SynthStats> {
  const W = o.width, H = o.height, endMs = o.seconds * 1000;
  const rand = rng(o.seed ?? 1);
  const pick = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const header: RecordingHeader = {
    startedAt: new Date(Date.UTC(2025, 0, 1)).toISOString(),
    width: W,
    height: H,
    colorDepth: 32,
    sessionId: "synthetic",
    source: { address: "192.0.2.1" },
    target: { host: "192.0.2.2", port: 3389 },
    channels: [],
  };
  let now = 0;
  const writer = await openRecordingWriter(path, header, { clock: () => now, maxPendingBytes: 256 << 20 });
  const stats: SynthStats = { records: 0, bytes: 0, keystrokes: 0, scrolls: 0, drags: 0 };
  const send = (type: RecordType, payload: Uint8Array) => {
    if (!writer.append(type, payload, now)) {
      throw new Error(`recording write failed: ${writer.failed?.message}`);
    }
    stats.records++;
  };
  // base = desktop + terminal; screen = base + dialog on top (what the client sees)
  const base = new Screen(W, H), screen = new Screen(W, H);
  for (let y = 0; y < H; y++) {
    base.fill({ x: 0, y, w: W, h: 1 }, [20, 60 + (y * 80 / H) | 0, 120 + (y * 60 / H) | 0]);
  }
  base.fill({ x: 0, y: H - 40, w: W, h: 40 }, [32, 32, 36]);
  for (let i = 0; i < 6; i++) {
    base.fill({ x: 60 + i * 48, y: H - 34, w: 28, h: 28 }, [90 + i * 25, 140, 200 - i * 20]);
  }
  const term: Rect = clip(
    { x: Math.round(W * 0.08), y: Math.round(H * 0.08), w: Math.round(W * 0.62), h: Math.round(H * 0.74) },
    W,
    H,
  );
  base.fill({ x: term.x, y: term.y, w: term.w, h: 28 }, [210, 210, 215]);
  const area: Rect = { x: term.x + 6, y: term.y + 34, w: term.w - 12, h: term.h - 40 };
  base.fill({ x: term.x, y: term.y + 28, w: term.w, h: term.h - 28 }, [12, 12, 16]);
  const cols = Math.floor(area.w / CHAR_W), rows = Math.floor(area.h / CHAR_H);
  const lines: string[] = [];
  let col = 0;

  // pseudo-glyphs: a seeded 7×13 pattern per character
  const glyphs = new Map<string, Uint8Array>();
  const glyph = (c: string) => {
    let g = glyphs.get(c);
    if (!g) {
      const gr = rng(c.charCodeAt(0) * 7919);
      g = new Uint8Array(7 * 13).map(() => (gr() < 0.35 ? 1 : 0));
      glyphs.set(c, g);
    }
    return g;
  };
  const drawChar = (s: Screen, row: number, c: number, ch: string, color: RGB = [200, 220, 200]) => {
    const x0 = area.x + c * CHAR_W, y0 = area.y + row * CHAR_H;
    s.fill({ x: x0, y: y0, w: CHAR_W, h: CHAR_H }, [12, 12, 16]);
    if (ch === " ") return;
    const g = glyph(ch), c32 = packed(color);
    for (let y = 0; y < 13; y++) {
      for (let x = 0; x < 7; x++) if (g[y * 7 + x]) s.u32[(y0 + 3 + y) * s.w + x0 + 1 + x] = c32;
    }
  };
  const redrawText = (top: number) => {
    base.fill(area, [12, 12, 16]);
    for (let r = 0; r < rows && top + r < lines.length; r++) {
      [...lines[top + r]].forEach((ch, c) => c < cols && drawChar(base, r, c, ch));
    }
  };
  let dialog: Rect | null = null;
  const dialogPx = new Screen(W, H);
  const compose = (r: Rect) => {
    screen.copyFrom(base, r);
    if (dialog) {
      const d = clip(dialog, W, H);
      const o2 = clip({ x: Math.max(r.x, d.x), y: Math.max(r.y, d.y), w: 0, h: 0 }, W, H);
      o2.w = Math.min(r.x + r.w, d.x + d.w) - o2.x;
      o2.h = Math.min(r.y + r.h, d.y + d.h) - o2.y;
      if (o2.w > 0 && o2.h > 0) {
        for (let y = 0; y < o2.h; y++) {
          const src = ((o2.y - dialog.y + y) * W + (o2.x - dialog.x)) * 4;
          screen.px.set(dialogPx.px.subarray(src, src + o2.w * 4), ((o2.y + y) * W + o2.x) * 4);
        }
      }
    }
  };
  // like a real server, changes are collected and sent at most 25 times a second (areas repainted
  // twice within one interval go once)
  let dirty: Rect[] = [], lastSend = -Infinity;
  const flush = (r: Rect) => {
    const c = clip(r, W, H);
    if (c.w > 0 && c.h > 0) dirty.push(c);
  };
  const sendDirty = () => {
    const kept: Rect[] = [];
    for (const r of dirty.sort((a, b) => b.w * b.h - a.w * a.h)) {
      if (!kept.some((k) => r.x >= k.x && r.y >= k.y && r.x + r.w <= k.x + k.w && r.y + r.h <= k.y + k.h)) {
        kept.push(r);
      }
    }
    dirty = [];
    lastSend = now;
    for (const r of kept) {
      compose(r);
      for (const pdu of repaint(screen.px, W, r)) send(RecordType.SERVER_FASTPATH, pdu);
    }
  };
  const SERVER_FRAME_MS = 40;
  let mouse = { x: W >> 1, y: H >> 1 }, lastInput = 0;
  const moveMouse = (x: number, y: number) => {
    mouse = {
      x: Math.max(0, Math.min(W - 1, Math.round(x))),
      y: Math.max(0, Math.min(H - 1, Math.round(y))),
    };
    send(RecordType.CLIENT_FASTPATH_INPUT, mouseInput(mouse.x, mouse.y));
    lastInput = now;
  };
  const scrollTo = (top: number) => {
    redrawText(top);
    flush(area);
    stats.scrolls++;
  };
  const caretRect = () => ({
    x: area.x + col * CHAR_W,
    y: area.y + Math.min(lines.length - 1, rows - 1) * CHAR_H,
    w: 2,
    h: CHAR_H,
  });
  // the caret blinks every 530 ms and stops 5 s after the last input, as on Windows (CaretTimeout)
  let caretOn = false, nextBlink = 530;
  const wait = async (ms: number) => {
    const until = Math.min(endMs, now + ms);
    for (;;) {
      const sendAt = dirty.length ? Math.max(now, lastSend + SERVER_FRAME_MS) : Infinity;
      const next = Math.min(sendAt, nextBlink);
      if (next > until) break;
      now = next;
      if (next === sendAt) sendDirty();
      else {
        nextBlink += 530;
        if (now - lastInput > 5000 && !caretOn) continue;
        caretOn = !caretOn;
        const cr = caretRect();
        base.fill(cr, caretOn ? [200, 220, 200] : [12, 12, 16]);
        flush(cr);
      }
    }
    now = until;
    if (writer.pendingBytes > 64 << 20) await new Promise((r) => setTimeout(r, 0));
  };
  const newLine = (text: string) => {
    lines.push(text);
    col = 0;
    if (lines.length > rows) scrollTo(lines.length - rows);
    else {
      const r = lines.length - 1;
      [...text].forEach((ch, c) => c < cols && drawChar(base, r, c, ch));
      flush({ x: area.x, y: area.y + r * CHAR_H, w: area.w, h: CHAR_H });
    }
  };

  const word = () => Array.from({ length: pick(2, 9) }, () => String.fromCharCode(97 + pick(0, 25))).join("");
  const typeLine = async () => {
    const text = Array.from({ length: pick(2, 8) }, word).join(" ").slice(0, cols - 2);
    if (lines.length === 0) newLine("");
    for (const ch of text) {
      await wait(pick(70, 260));
      const row = Math.min(lines.length, rows) - 1;
      lines[lines.length - 1] += ch;
      drawChar(base, row, col, ch);
      flush({ x: area.x + col * CHAR_W, y: area.y + row * CHAR_H, w: CHAR_W + 2, h: CHAR_H });
      col++;
      send(RecordType.CLIENT_FASTPATH_INPUT, keyInput(0x10 + (ch.charCodeAt(0) % 30)));
      lastInput = now;
      stats.keystrokes++;
    }
    send(RecordType.META, encodeMeta({ kind: "keystrokes", text }));
    await wait(pick(150, 500));
    for (let i = pick(0, 12); i > 0; i--) { // command output, fast
      newLine(Array.from({ length: pick(3, 12) }, word).join(" ").slice(0, cols));
      await wait(pick(10, 60));
    }
    newLine("");
  };
  const scrollBack = async () => {
    let top = Math.max(0, lines.length - rows);
    for (let i = pick(8, 30); i > 0 && top > 0; i--) {
      top = Math.max(0, top - 3);
      scrollTo(top);
      await wait(100);
    }
    await wait(pick(800, 3000));
    scrollTo(Math.max(0, lines.length - rows));
  };
  const drag = async () => {
    const dw = Math.round(W * 0.3), dh = Math.round(H * 0.35);
    if (!dialog) {
      dialog = { x: pick(0, W - dw), y: pick(0, H - dh - 40), w: dw, h: dh };
      dialogPx.fill({ x: 0, y: 0, w: dw, h: dh }, [236, 236, 240]);
      dialogPx.fill({ x: 0, y: 0, w: dw, h: 26 }, [40, 90, 170]);
      dialogPx.fill({ x: dw - 110, y: dh - 40, w: 90, h: 28 }, [200, 200, 206]);
      flush(dialog);
    }
    const to = { x: pick(0, W - dw), y: pick(0, H - dh - 40) };
    const steps = pick(10, 25);
    const from = { ...dialog };
    for (let i = 1; i <= steps; i++) {
      await wait(66);
      const prev: Rect = dialog!;
      dialog = {
        ...prev,
        x: Math.round(from.x + (to.x - from.x) * i / steps),
        y: Math.round(from.y + (to.y - from.y) * i / steps),
      };
      moveMouse(dialog.x + 60, dialog.y + 12);
      flush(union(prev, dialog));
    }
    stats.drags++;
    if (rand() < 0.4) { // close it
      const gone = dialog!;
      dialog = null;
      flush(gone);
    }
  };
  const wander = async () => {
    for (let i = pick(20, 90); i > 0; i--) {
      await wait(33);
      moveMouse(mouse.x + pick(-25, 25), mouse.y + pick(-18, 18));
    }
  };

  screen.copyFrom(base, { x: 0, y: 0, w: W, h: H });
  flush({ x: 0, y: 0, w: W, h: H });
  while (now < endMs) {
    const p = rand();
    if (p < 0.45) await typeLine();
    else if (p < 0.65) await wait(pick(1500, 8000)); // reading
    else if (p < 0.77) await scrollBack();
    else if (p < 0.87) await drag();
    else await wander();
  }
  if (dirty.length) sendDirty();
  const s = await writer.close();
  if (s.failed) throw s.failed;
  stats.bytes = s.bytesWritten;
  return stats;
}
