// The slice of npm:qrcode 1.5 that core/qr.ts uses.
declare const QRCode: {
  toString(text: string, options: { type: "svg" | "utf8"; margin?: number; width?: number }): Promise<string>;
};
export default QRCode;
