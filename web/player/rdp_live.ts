// The live view of an active RDP session: server-sent events from web/rdp_live_stream.ts — the current
// screen as a keyframe, then the recording's bytes as they are written — parsed and drawn with the same
// renderer as a replay. Markup: <div class="rdp-live" data-src="…/live"> with a canvas and [data-status];
// its data-state is connecting, live, ended or error.
import type { RecordingHeader } from "../../recorder/rdp_file_format.ts";
import { type Renderer, restoreRenderer } from "../../recorder/rdp_render/mod.ts";
import { applyRecord } from "../../recorder/rdp_replay/apply.ts";
import { decodeKeyframe } from "../../recorder/rdp_replay/keyframe.ts";
import { RecordStream } from "../../recorder/rdp_replay/record_stream.ts";
import { CanvasPainter } from "./canvas_painter.ts";

function base64Bytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function gunzip(b: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

export function startLiveView(el: HTMLElement): void {
  const painter = new CanvasPainter(el.querySelector("canvas")!);
  const status = (t: string) => {
    const s = el.querySelector("[data-status]");
    if (s) s.textContent = t;
  };
  const state = (s: string) => el.dataset.state = s;
  let renderer: Renderer | null = null;
  let stream: RecordStream | null = null;
  let whole = true, queued = false;
  /** events wait here while the keyframe is decompressed, so they apply in order */
  let chain: Promise<void> = Promise.resolve();
  const draw = () => {
    queued = false;
    if (!renderer) return;
    painter.draw(renderer.frame(), whole);
    whole = false;
  };
  const later = () => {
    if (!queued) [queued] = [true, requestAnimationFrame(draw)];
  };
  const es = new EventSource(el.dataset.src!);
  const fail = (text: string) => {
    es.close();
    state("error");
    status(text);
  };
  state("connecting");
  status("Connecting…");
  es.addEventListener("keyframe", (ev) => {
    const k = JSON.parse((ev as MessageEvent).data) as {
      header: RecordingHeader;
      t: number;
      fileOffset: number;
      data: string;
    };
    chain = chain.then(async () => {
      renderer = restoreRenderer(decodeKeyframe(await gunzip(base64Bytes(k.data))));
      stream = new RecordStream(k.fileOffset, { header: k.header, lastOffsetMillis: k.t });
      whole = true;
      draw();
      state("live");
      status("Live: the session as it happens (about a second behind).");
    }).catch((e) => fail(`The live view failed: ${(e as Error).message}`));
  });
  es.addEventListener("b", (ev) => {
    const bytes = base64Bytes((ev as MessageEvent).data);
    chain = chain.then(() => {
      if (!stream || !renderer) return;
      stream.push(bytes);
      for (let r; (r = stream.next());) applyRecord(renderer, r.type, r.payload);
      el.dataset.bytes = String(stream.position);
      later();
    }).catch((e) => fail(`The live view stopped: ${(e as Error).message}`));
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
    const data = (ev as MessageEvent).data;
    if (typeof data === "string") fail(`The live view stopped: ${JSON.parse(data)}`);
    else if (es.readyState === EventSource.CLOSED && el.dataset.state !== "ended") {
      fail("The live view lost its connection.");
    }
  });
}
