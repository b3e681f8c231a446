// /servers/:name/backend-key/{generate,import,remove}: the appliance's own key for one backend, as the CLI's
// `jumphost server backend-key` (same store, same audit events, fingerprints only). Operators and admins.
import { type Context, Hono } from "hono";
import { changeEvent } from "../../db/audit_events.ts";
import { writeAudit } from "../../db/audit.ts";
import { getServer } from "../../db/servers.ts";
import {
  BackendKeyError,
  generateBackendKey,
  readBackendKey,
  removeBackendKey,
  writeBackendKey,
} from "../../keys/backend_keys.ts";
import type { AppEnv } from "../deps.ts";
import { HttpError } from "../errors.tsx";
import type { BackendKeyState } from "../views/backend_key_view.tsx";
import type { FormState } from "../views/parts.tsx";
import { byOf, formOf, need, type RouteCtx } from "./ctx.ts";

/** Larger than any OpenSSH private key (RSA 16384 is ≈ 12 KiB). */
const MAX_KEY_CHARS = 32 * 1024;

/** What the server page shows about the key (never the private half). */
export async function backendKeyState(dataDir: string | undefined, server: string): Promise<BackendKeyState> {
  if (!dataDir) return { kind: "unavailable" };
  try {
    const k = await readBackendKey(dataDir, server);
    return k
      ? { kind: "key", type: k.type, fingerprint: k.fingerprint, publicKey: k.publicKey }
      : { kind: "none" };
  } catch (e) {
    if (e instanceof BackendKeyError || e instanceof Deno.errors.PermissionDenied) {
      return { kind: "invalid", message: (e as Error).message };
    }
    throw e;
  }
}

export type DetailRenderer = (
  c: Context<AppEnv>,
  name: string,
  keyForm: FormState,
  status: 200 | 400 | 404 | 409,
) => Promise<Response>;

export function backendKeyRoutes(ctx: RouteCtx, renderDetail: DetailRenderer): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("manage"));
  const dataDirOf = () => {
    if (!deps.dataDir) throw new HttpError(503, "Backend keys need the appliance's data directory.");
    return deps.dataDir;
  };
  const done = (c: Context<AppEnv>, name: string, what: string) =>
    c.redirect(`/servers/${encodeURIComponent(name)}?key=${what}`, 303);
  const formError = (c: Context<AppEnv>, name: string, field: string, msg: string, status: 400 | 404 | 409) =>
    renderDetail(c, name, { values: {}, errors: { [field]: msg } }, status);

  // generate and import share the write: refuse to replace unless the (confirmed) form says so
  const store = async (c: Context<AppEnv>, how: "generated" | "imported", key: () => string | null) => {
    const s = await getServer(deps.sql, c.req.param("name")!); // 404 for an unknown server
    const dataDir = dataDirOf();
    const v = await formOf(c);
    const privateKey = key() ?? v.private_key ?? "";
    if (how === "imported") {
      if (privateKey.trim() === "") return formError(c, s.name, "private_key", "paste a private key", 400);
      if (privateKey.length > MAX_KEY_CHARS) {
        return formError(c, s.name, "private_key", "this is too long to be a private key", 400);
      }
    }
    const previous = await readBackendKey(dataDir, s.name).catch(() => null);
    let info;
    try {
      info = await writeBackendKey(dataDir, s.name, privateKey, { replace: v.replace === "1" });
    } catch (e) {
      if (!(e instanceof BackendKeyError)) throw e;
      if (e.code === "exists") {
        return formError(
          c,
          s.name,
          "_form",
          `${s.name} already has a backend key; confirm to replace it.`,
          409,
        );
      }
      // the parser's message, never the key: the textarea comes back empty
      return formError(c, s.name, how === "imported" ? "private_key" : "_form", e.message, 400);
    }
    await writeAudit(
      deps.sql,
      changeEvent(byOf(c), "server.backend_key_set", s.name, {
        how,
        type: info.type,
        fingerprint: info.fingerprint,
        replaced: previous?.fingerprint ?? null,
      }),
      deps.nodeId,
    );
    return done(c, s.name, how);
  };

  app.post(
    "/:name/backend-key/generate",
    (c) => store(c, "generated", () => generateBackendKey(c.req.param("name"))),
  );
  app.post("/:name/backend-key/import", (c) => store(c, "imported", () => null));

  app.post("/:name/backend-key/remove", async (c) => {
    const s = await getServer(deps.sql, c.req.param("name"));
    const dataDir = dataDirOf();
    let info;
    try {
      info = await removeBackendKey(dataDir, s.name);
    } catch (e) {
      if (e instanceof BackendKeyError && e.code === "missing") {
        return formError(c, s.name, "_form", e.message, 404);
      }
      throw e;
    }
    await writeAudit(
      deps.sql,
      changeEvent(byOf(c), "server.backend_key_removed", s.name, { fingerprint: info.fingerprint }),
      deps.nodeId,
    );
    return done(c, s.name, "removed");
  });
  return app;
}
