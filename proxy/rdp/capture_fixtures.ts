// Test support (not used by production code): frames captured from real xfreerdp sessions through the
// proxy, kept in tests/fixtures/rdp as hex. The Client Info in them carries only throwaway test passwords.
import { type Frame, hex } from "./pdu/mod.ts";

interface Captured {
  side: "client" | "server";
  kind: "tpkt" | "fastpath";
  hex: string;
}

export type CapturedFrame = Frame & { side: "client" | "server" };

export async function loadCapture(name: "shadow_session" | "xrdp_session"): Promise<CapturedFrame[]> {
  const url = new URL(`../../tests/fixtures/rdp/${name}.json`, import.meta.url);
  const raw = JSON.parse(await Deno.readTextFile(url)) as Captured[];
  return raw.map((c) => ({ side: c.side, kind: c.kind, bytes: hex(c.hex) }));
}
