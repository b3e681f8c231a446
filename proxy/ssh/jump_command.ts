// Commands to the jump itself (pure): `ssh alice@jump request web1 --login root --minutes 60 --reason "…"
// [--wait]`. OpenSSH joins the remote command's words with spaces and the client's shell has already removed
// the quotes, so --reason takes every word up to the next option; quotes that do arrive are honoured.
import { checkReason, parseMinutes, RequestInputError } from "../../policy/access_request.ts";

export interface RequestCommand {
  server: string;
  logins: string[];
  minutes: number;
  reason: string;
  wait: boolean;
}

export type JumpCommand =
  | { kind: "request"; request: RequestCommand }
  | { kind: "help" }
  | { kind: "invalid"; message: string };

export const JUMP_USAGE = 'usage: request SERVER --login LOGIN[,LOGIN…] --minutes N --reason "WHY" [--wait]';

/** Splits on whitespace; '…' and "…" group words (a backslash escapes the next character outside '…'). */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  let cur = "", inWord = false, quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

const OPTIONS = new Set(["--login", "--minutes", "--reason", "--wait"]);

export function parseJumpCommand(command: string): JumpCommand {
  if (command.length > 4096) return { kind: "invalid", message: "the command is too long" };
  const words = splitWords(command);
  if (words.length === 0 || words[0] === "help" || words[0] === "--help") return { kind: "help" };
  if (words[0] !== "request") {
    return { kind: "invalid", message: `unknown command "${words[0].slice(0, 40)}"` };
  }
  let server: string | null = null;
  const logins: string[] = [];
  let minutes: string | null = null, reason: string | null = null, wait = false;
  for (let i = 1; i < words.length; i++) {
    const [w, inline] = words[i].startsWith("--") && words[i].includes("=")
      ? [words[i].slice(0, words[i].indexOf("=")), words[i].slice(words[i].indexOf("=") + 1)]
      : [words[i], null];
    const value = (): string | null => {
      if (inline !== null) return inline;
      const v = words[i + 1];
      if (v === undefined || OPTIONS.has(v.split("=")[0])) return null;
      i++;
      return v;
    };
    if (w === "--wait") wait = true;
    else if (w === "--login") {
      const v = value();
      if (v === null) return { kind: "invalid", message: "--login needs a value" };
      logins.push(...v.split(",").map((l) => l.trim()).filter(Boolean));
    } else if (w === "--minutes") {
      if (minutes !== null) return { kind: "invalid", message: "--minutes given twice" };
      minutes = value();
      if (minutes === null) return { kind: "invalid", message: "--minutes needs a value" };
    } else if (w === "--reason") {
      if (reason !== null) return { kind: "invalid", message: "--reason given twice" };
      // every word up to the next option
      const parts = inline !== null ? [inline] : [];
      while (i + 1 < words.length && !OPTIONS.has(words[i + 1].split("=")[0])) parts.push(words[++i]);
      reason = parts.join(" ");
    } else if (w.startsWith("--")) {
      return { kind: "invalid", message: `unknown option ${w.slice(0, 40)}` };
    } else if (server === null) server = w;
    else return { kind: "invalid", message: `unexpected argument "${w.slice(0, 40)}"` };
  }
  if (server === null) return { kind: "invalid", message: "name the SERVER" };
  if (logins.length === 0) return { kind: "invalid", message: "give --login LOGIN" };
  if (minutes === null) return { kind: "invalid", message: "give --minutes N" };
  if (reason === null) return { kind: "invalid", message: 'give --reason "WHY"' };
  try {
    return {
      kind: "request",
      request: { server, logins, minutes: parseMinutes(minutes), reason: checkReason(reason), wait },
    };
  } catch (e) {
    if (e instanceof RequestInputError) return { kind: "invalid", message: e.message };
    throw e;
  }
}
