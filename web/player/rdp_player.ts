// The in-browser RDP player (bundled into web/static/rdp_player.js by scripts/bundle_rdp_player.ts):
// fetches a recording through the console's range-capable route, replays it with the same renderer
// the MP4 conversion uses, and draws the frames (pointer included) into a canvas. Seeks restore the
// nearest keyframe of the recording's index and replay from its byte offset.
//
// Markup (web/views/rdp_parts.tsx): <div class="rdp-player" data-base="/sessions/S/recordings/R"> with
// a canvas, controls marked data-act="play|seek|speed|idle", [data-time] and [data-status]. Its
// data-state (loading, paused, playing, ended, stopped, error) and data-t (ms) say where it is.

import { RecordingFormatError, type RecordingHeader } from "../../recorder/rdp_file_format.ts";
import { CanvasPainter } from "./canvas_painter.ts";
import { startLiveView } from "./rdp_live.ts";
import {
  createRenderer,
  type Renderer,
  RenderError,
  restoreRenderer,
} from "../../recorder/rdp_render/mod.ts";
import { applyRecord } from "../../recorder/rdp_replay/apply.ts";
import { keyframeFor, type StopPoint } from "../../recorder/rdp_replay/index_builder.ts";
import { decodeKeyframe } from "../../recorder/rdp_replay/keyframe.ts";
import { RecordStream, type StreamRecord } from "../../recorder/rdp_replay/record_stream.ts";

interface IndexJson {
  width: number;
  height: number;
  durationMs: number;
  complete: boolean;
  stop: StopPoint | null;
  keyframes: { t: number; fileOffset: number }[];
}

/** A pause longer than this (recording time) is skipped when "skip idle" is on. */
const IDLE_MS = 2000;

class Player {
  readonly painter: CanvasPainter;
  index!: IndexJson;
  header: RecordingHeader | null = null;
  renderer!: Renderer;
  /** current recording time (ms): every record at or before it is applied */
  t = 0;
  speed = 1;
  skipIdle = true;
  playing = false;
  #stream!: RecordStream;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #abort: AbortController | null = null;
  #queue: StreamRecord[] = [];
  #qi = 0;
  #eof = false;
  /** how the bytes ended, when that is short of a whole recording */
  #endStop: StopPoint | null = null;
  #stopped: string | null = null;
  #busy: Promise<void> | null = null;
  #pendingSeek: number | null = null;
  #lastTick = 0;

  constructor(readonly el: HTMLElement, readonly base: string) {
    this.painter = new CanvasPainter(el.querySelector("canvas")!);
  }

  async start(): Promise<void> {
    this.#state("loading");
    this.#status("Preparing the recording…");
    const res = await fetch(`${this.base}/index`, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`the recording's index could not be loaded (HTTP ${res.status})`);
    this.index = await res.json();
    const seek = this.#control<HTMLInputElement>("seek");
    if (seek) seek.max = String(this.index.durationMs);
    this.renderer = createRenderer({ width: this.index.width || 1, height: this.index.height || 1 });
    await this.#open(0);
    await this.#applyUntil(0);
    this.#draw();
    this.#status(
      this.index.stop
        ? `Plays up to ${clock(this.index.stop.atMillis)}: ${this.#stopText(this.index.stop)}`
        : "",
    );
    this.#state("paused");
    this.#wire();
    // opened at a moment (a search hit): seek there first
    const startMs = Number(this.el.dataset.startMs);
    if (this.el.dataset.startMs && Number.isFinite(startMs) && startMs > 0) this.seek(startMs);
    requestAnimationFrame((ts) => this.#tick(ts));
  }

  #wire(): void {
    this.#control("play")?.addEventListener("click", () => this.playing ? this.pause() : this.play());
    const seek = this.#control<HTMLInputElement>("seek");
    seek?.addEventListener("change", () => this.seek(Number(seek.value)));
    const speed = this.#control<HTMLSelectElement>("speed");
    speed?.addEventListener("change", () => this.speed = Math.min(16, Math.max(1, Number(speed.value) || 1)));
    if (speed) this.speed = Number(speed.value) || 1;
    const idle = this.#control<HTMLInputElement>("idle");
    idle?.addEventListener("change", () => this.skipIdle = idle.checked);
    if (idle) this.skipIdle = idle.checked;
  }

  play(): void {
    if (this.#stopped !== null || this.el.dataset.state === "ended") return;
    this.playing = true;
    this.#lastTick = performance.now();
    this.#state("playing");
    this.#label("Pause");
  }

  pause(): void {
    this.playing = false;
    if (this.el.dataset.state === "playing") this.#state("paused");
    this.#label("Play");
  }

  seek(t: number): void {
    this.#pendingSeek = Math.max(0, Math.min(t, this.index.durationMs));
    this.#stopped = null;
    this.#state("seeking");
  }

  #tick(ts: number): void {
    requestAnimationFrame((n) => this.#tick(n));
    if (this.#busy) return;
    this.#busy = this.#step(ts).catch((e) => this.#fail(e)).finally(() => this.#busy = null);
  }

  async #step(now: number): Promise<void> {
    if (this.#pendingSeek !== null) {
      const target = this.#pendingSeek;
      this.#pendingSeek = null;
      const began = performance.now();
      await this.#seekTo(target);
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

  async #seekTo(target: number): Promise<void> {
    const k = keyframeFor(this.index.keyframes, target);
    const from = k === null ? null : this.index.keyframes[k];
    const forwardOnly = target >= this.t && (from === null || from.t <= this.t);
    if (!forwardOnly) {
      if (from === null) {
        this.renderer = createRenderer({ width: this.header!.width, height: this.header!.height });
        await this.#open(0);
      } else {
        const res = await fetch(`${this.base}/keyframes/${k}`, { credentials: "same-origin" });
        if (!res.ok || !res.body) throw new Error(`keyframe ${k} could not be loaded (HTTP ${res.status})`);
        const raw = new Uint8Array(
          await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
        );
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
  async #open(offset: number, lastOffsetMillis = 0): Promise<void> {
    this.#abort?.abort();
    this.#abort = new AbortController();
    this.#stream = offset === 0
      ? new RecordStream()
      : new RecordStream(offset, { header: this.header!, lastOffsetMillis });
    [this.#queue, this.#qi, this.#eof, this.#endStop, this.#stopped] = [[], 0, false, null, null];
    this.t = lastOffsetMillis;
    const res = await fetch(`${this.base}/raw`, {
      credentials: "same-origin",
      headers: { Range: `bytes=${offset}-` },
      signal: this.#abort.signal,
    });
    if (!(res.status === 206 || (res.status === 200 && offset === 0)) || !res.body) {
      throw new Error(`the recording could not be read (HTTP ${res.status})`);
    }
    this.#reader = res.body.getReader();
  }

  /** The next record not applied yet (reading more when needed); null at the end. */
  async #peek(): Promise<StreamRecord | null> {
    while (this.#qi >= this.#queue.length) {
      if (this.#stopped !== null) return null;
      if (this.#eof) {
        if (this.#endStop) this.#stop({ ...this.#endStop, atMillis: this.t });
        return null;
      }
      await this.#pull();
    }
    return this.#queue[this.#qi];
  }

  /** Apply every record up to `target` ms. */
  async #applyUntil(target: number): Promise<void> {
    for (;;) {
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
          message: `record at ${rec.offsetMillis} ms (byte ${rec.fileOffset}): ${e.message}`,
        });
        return;
      }
      this.t = rec.offsetMillis;
      this.#qi++;
    }
    if (this.#stopped === null) this.t = Math.max(this.t, Math.min(target, this.index.durationMs));
    if (this.#qi > 4096) [this.#queue, this.#qi] = [this.#queue.slice(this.#qi), 0];
  }

  /** Read one chunk into the queue; at the end of the bytes, note how the recording ended. */
  async #pull(): Promise<void> {
    const { done, value } = await this.#reader!.read();
    if (done) {
      this.#eof = true;
      const end = this.#stream.end();
      if (end.truncated) {
        this.#endStop = {
          kind: "truncated",
          atMillis: 0,
          fileOffset: end.position,
          message: `the file ends inside a record at byte ${end.position} (it was cut short)`,
        };
      }
      return;
    }
    this.#stream.push(value);
    try {
      for (let r; (r = this.#stream.next());) this.#queue.push({ ...r, payload: r.payload.slice() });
    } catch (e) {
      if (!(e instanceof RecordingFormatError)) throw e;
      // the records before the damage still play; the stop is shown once they have
      this.#eof = true;
      this.#reader!.cancel().catch(() => {});
      this.#endStop = { kind: "damaged", atMillis: 0, fileOffset: this.#stream.position, message: e.message };
    }
    this.header ??= this.#stream.header;
  }

  #stop(s: StopPoint): void {
    this.#stopped = this.#stopText(s);
    this.playing = false;
    this.#label("Play");
    this.#state("stopped");
    this.#status(`Playback stopped at ${clock(s.atMillis)}: ${this.#stopped}`);
    this.el.dataset.stopOffset = String(s.fileOffset);
  }

  #stopText(s: StopPoint): string {
    const what = s.kind === "truncated"
      ? "the recording is truncated"
      : s.kind === "damaged"
      ? "the recording is damaged"
      : "an update could not be drawn";
    return `${what}; ${s.message}. Nothing after this point can be shown.`;
  }

  #draw(): void {
    this.painter.draw(this.renderer.frame());
    this.#showTime();
  }

  #showTime(): void {
    this.el.dataset.t = String(Math.round(this.t));
    const time = this.el.querySelector("[data-time]");
    if (time) time.textContent = `${clock(this.t)} / ${clock(this.index.durationMs)}`;
    const seek = this.#control<HTMLInputElement>("seek");
    if (seek && document.activeElement !== seek) seek.value = String(Math.round(this.t));
  }

  #fail(e: unknown): void {
    this.playing = false;
    this.#state("error");
    this.#status(`The player failed: ${(e as Error).message}`);
  }

  #state(s: string): void {
    this.el.dataset.state = s;
  }

  #status(text: string): void {
    const s = this.el.querySelector("[data-status]");
    if (s) s.textContent = text;
  }

  #label(text: string): void {
    const b = this.#control("play");
    if (b) b.textContent = text;
  }

  #control<T extends HTMLElement = HTMLElement>(act: string): T | null {
    return this.el.querySelector<T>(`[data-act="${act}"]`);
  }
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

for (const el of document.querySelectorAll<HTMLElement>(".rdp-live[data-src]")) startLiveView(el);
const players = new Map<string, Player>();
for (const el of document.querySelectorAll<HTMLElement>(".rdp-player[data-base]")) {
  const p = new Player(el, el.dataset.base!);
  players.set(el.id.replace("rdp-player-", ""), p);
  p.start().catch((e) => {
    el.dataset.state = "error";
    const s = el.querySelector("[data-status]");
    if (s) s.textContent = `The player could not start: ${(e as Error).message}`;
  });
}

// the timeline beside a player: a click seeks that recording's player to the moment
for (const b of document.querySelectorAll<HTMLElement>("[data-seek-rec][data-seek-ms]")) {
  b.addEventListener("click", () => {
    const p = players.get(b.dataset.seekRec!);
    if (p?.index) p.seek(Number(b.dataset.seekMs));
  });
}
