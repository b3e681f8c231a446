// QR codes (npm:qrcode) for TOTP enrolment: an inline SVG for the console, UTF-8 blocks for a terminal.
// Typed by qrcode.d.ts (only what we call): @types/qrcode would pull @types/node into every module's types.
// @ts-types="./qrcode.d.ts"
import QRCode from "qrcode";

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", margin: 2, width: 220 });
}

export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: "utf8" });
}
