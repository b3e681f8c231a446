// Keystroke logging with pre-logon redaction. Input before the logon is likely a password typed into
// the backend's logon screen, so it is counted but never turned into text. Logon is known only from the
// server's Save Session Info PDU (a logon notification). A client's INFO_AUTOLOGON with a password proves
// nothing: Windows may still show its logon screen (a wrong saved password, "always prompt for password"),
// and what is typed there is a password. Servers that never send Save Session Info (xrdp, FreeRDP shadow)
// therefore get no keystroke text at all, only counts: redaction errs on the side of the password.
import { type InputEvent, KeystrokeTranslator } from "./pdu/mod.ts";
import type { MetaEvent } from "./meta_events.ts";

/** Flush the pending text at this length even without Enter or a pause. */
const FLUSH_AT = 256;

export class KeystrokeLog {
  #translator: KeystrokeTranslator;
  #loggedOn = false;
  #text = "";
  #redacted = 0;

  constructor(
    private readonly emit: (e: MetaEvent) => void,
    private readonly now: () => Date = () => new Date(),
    keyboardLayout = 0x0409,
  ) {
    this.#translator = new KeystrokeTranslator(keyboardLayout);
  }

  get loggedOn(): boolean {
    return this.#loggedOn;
  }

  /** From CS_CORE.keyboardLayout (before any input). */
  setKeyboardLayout(layout: number): void {
    this.#translator = new KeystrokeTranslator(layout);
  }

  /** The server's Save Session Info said the user logged on: text from here on. */
  logon(how: "save_session_info"): void {
    if (this.#loggedOn) return;
    this.flush();
    this.#loggedOn = true;
    this.emit({ type: "logon", at: this.now().toISOString(), how });
  }

  /** Events of one input PDU; returns true when they included keyboard input. */
  input(events: InputEvent[]): boolean {
    let keyboard = false;
    for (const e of events) {
      if (e.type === "scancode" || e.type === "unicode") keyboard = true;
      const text = this.#translator.feed(e); // always fed, so modifier and lock state stay right
      if (text === "") continue;
      if (!this.#loggedOn) {
        this.#redacted++;
        continue;
      }
      this.#text += text;
      if (text === "<Enter>" || this.#text.length >= FLUSH_AT) this.flush();
    }
    return keyboard;
  }

  /** Emit what is pending (on a timer, at logon and at close). */
  flush(): void {
    const at = this.now().toISOString();
    if (this.#redacted > 0) {
      this.emit({ type: "keys_redacted", at, count: this.#redacted });
      this.#redacted = 0;
    }
    if (this.#text !== "") {
      this.emit({ type: "keys", at, text: this.#text });
      this.#text = "";
    }
  }
}
