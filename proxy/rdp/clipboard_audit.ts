// Clipboard audit over reassembled cliprdr messages (MS-RDPECLIP): text pasted across and the names of
// files offered for copy. A paste is a Format Data Request from one side answered by the other side.
import {
  CB_CLIP_CAPS,
  CB_FORMAT_DATA_REQUEST,
  CB_FORMAT_DATA_RESPONSE,
  CB_FORMAT_LIST,
  CB_RESPONSE_FAIL,
  CB_USE_LONG_FORMAT_NAMES,
  CF_UNICODETEXT,
  parseClipCapsGeneralFlags,
  parseCliprdrPdu,
  parseFileGroupDescriptorW,
  parseFormatDataRequest,
  parseFormatList,
  parseUnicodeTextResponse,
} from "./pdu/mod.ts";
import type { MetaEvent, Side } from "./meta_events.ts";

const MAX_TEXT = 4096;
const other = (s: Side): Side => (s === "client" ? "server" : "client");

export class ClipboardAudit {
  #caps: Record<Side, number | null> = { client: null, server: null };
  /** Registered formats each side announced in its last Format List (id → name). */
  #formats: Record<Side, Map<number, string>> = { client: new Map(), server: new Map() };
  /** Format a side asked the other for (the next Format Data Response answers it). */
  #requested: Record<Side, number | null> = { client: null, server: null };

  constructor(private readonly emit: (e: MetaEvent) => void, private readonly now: () => Date) {}

  message(from: Side, message: Uint8Array): void {
    const pdu = parseCliprdrPdu(message);
    switch (pdu.msgType) {
      case CB_CLIP_CAPS:
        this.#caps[from] = parseClipCapsGeneralFlags(pdu);
        break;
      case CB_FORMAT_LIST: {
        const long = ((this.#caps.client ?? 0) & (this.#caps.server ?? 0) & CB_USE_LONG_FORMAT_NAMES) !== 0;
        this.#formats[from] = new Map(parseFormatList(pdu, long).map((f) => [f.id, f.name]));
        break;
      }
      case CB_FORMAT_DATA_REQUEST:
        this.#requested[from] = parseFormatDataRequest(pdu);
        break;
      case CB_FORMAT_DATA_RESPONSE: {
        const requester = other(from);
        const format = this.#requested[requester];
        this.#requested[requester] = null;
        if (format === null || pdu.msgFlags & CB_RESPONSE_FAIL) break;
        const at = this.now().toISOString();
        if (format === CF_UNICODETEXT) {
          const text = parseUnicodeTextResponse(pdu) ?? "";
          this.emit({
            type: "clipboard_text",
            at,
            from,
            text: text.slice(0, MAX_TEXT),
            length: text.length,
            truncated: text.length > MAX_TEXT,
          });
        } else if (this.#formats[from].get(format) === "FileGroupDescriptorW") {
          this.emit({ type: "clipboard_files", at, from, files: parseFileGroupDescriptorW(pdu.data) });
        }
        break;
      }
    }
  }
}
