// /account/passkeys: adding a passkey to one's own console account (JSON; the session's CSRF token in the
// X-CSRF-Token header). First the options for navigator.credentials.create(), then the browser's answer.
import { Hono } from "hono";
import { jsonBody } from "../json_body.ts";
import type { AppEnv } from "../deps.ts";
import type { RouteCtx } from "../routes/ctx.ts";
import { byOf } from "../routes/ctx.ts";
import { addPasskey, listPasskeys, startCeremony, takeCeremony } from "../../db/console_passkeys.ts";
import { checkRegistration, PasskeyError, registrationOptions, relyingPartyOf } from "./webauthn.ts";

export function passkeyRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps, now } = ctx;
  const app = new Hono<AppEnv>();

  app.post("/options", async (c) => {
    const s = c.get("session");
    try {
      const rp = relyingPartyOf(new URL(c.req.url));
      const options = await registrationOptions(
        rp,
        { id: s.userId, name: s.userName },
        await listPasskeys(deps.sql, s.userId),
      );
      const handle = await startCeremony(deps.sql, {
        purpose: "register",
        userId: s.userId,
        challenge: options.challenge,
        rpId: rp.rpId,
        origin: rp.origin,
      }, now());
      return c.json({ handle, options });
    } catch (e) {
      if (e instanceof PasskeyError) return c.json({ error: e.message }, 400);
      throw e;
    }
  });

  app.post("/", async (c) => {
    const s = c.get("session");
    const body = await jsonBody(c);
    const name = typeof body.name === "string" ? body.name.trim() : "";
    // deno-lint-ignore no-control-regex
    if (name.length < 1 || name.length > 64 || /[\x00-\x1f\x7f]/.test(name)) {
      return c.json({ error: "Give the passkey a name of 1 to 64 characters." }, 400);
    }
    const ceremony = await takeCeremony(
      deps.sql,
      typeof body.handle === "string" ? body.handle : undefined,
      "register",
      now(),
    );
    if (!ceremony || ceremony.userId !== s.userId) {
      return c.json({ error: "The request to add a passkey expired. Try again." }, 400);
    }
    try {
      const key = await checkRegistration(body.response, ceremony);
      await addPasskey(deps.sql, {
        userId: s.userId,
        userName: s.userName,
        ...key,
        name,
        rpId: ceremony.rpId,
      }, byOf(c));
      return c.json({ ok: true });
    } catch (e) {
      if (e instanceof PasskeyError) return c.json({ error: e.message }, 400);
      if ((e as { code?: string }).code === "23505") {
        return c.json({ error: "This passkey is already registered." }, 409);
      }
      throw e;
    }
  });

  return app;
}
