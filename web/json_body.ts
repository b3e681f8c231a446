// A small JSON request body as an object (the passkey calls); anything else — not JSON, an array, a
// scalar — is an empty object, so a route refuses it with its own message.
import type { Context } from "hono";
import type { AppEnv } from "./deps.ts";

export async function jsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  try {
    const v = await c.req.json();
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
