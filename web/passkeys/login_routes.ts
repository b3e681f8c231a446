// POST /login/passkey/options and /login/passkey: a passkey login, alone or as the second step after the
// password (JSON; the login form's CSRF token in the X-CSRF-Token header). Mounted by routes/login.tsx.
import { Hono } from "hono";
import { findMfaChallenge } from "../../db/console_mfa_challenges.ts";
import { listPasskeys, startCeremony, takeCeremony } from "../../db/console_passkeys.ts";
import { type AuthLimits, clientIp, safeNext, setSessionCookie } from "../auth.ts";
import { checkLoginToken } from "../csrf.ts";
import type { AppEnv, WebDeps } from "../deps.ts";
import { jsonBody } from "../json_body.ts";
import { MESSAGES } from "../login_messages.ts";
import { passkeyLogin } from "./login.ts";
import { authenticationOptions, PasskeyError, relyingPartyOf } from "./webauthn.ts";

export function passkeyLoginRoutes(deps: WebDeps, limits: AuthLimits, now: () => Date): Hono<AppEnv> {
  const secure = deps.secureCookies ?? false;
  const app = new Hono<AppEnv>();
  app.post("/login/passkey/options", async (c) => {
    await checkLoginToken(c);
    const body = await jsonBody(c);
    const challenge = typeof body.challenge === "string" ? body.challenge : null;
    try {
      const rp = relyingPartyOf(new URL(c.req.url));
      let userId: number | null = null;
      let allow = null;
      if (challenge !== null) {
        const found = await findMfaChallenge(deps.sql, challenge, now());
        if (!found) return c.json({ error: MESSAGES.challenge_expired }, 401);
        userId = found.userId;
        allow = await listPasskeys(deps.sql, userId);
        if (allow.length === 0) return c.json({ error: "This account has no passkey." }, 400);
      }
      const options = await authenticationOptions(rp, allow);
      const handle = await startCeremony(deps.sql, {
        purpose: challenge !== null ? "second_factor" : "login",
        userId,
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

  app.post("/login/passkey", async (c) => {
    await checkLoginToken(c);
    const body = await jsonBody(c);
    const challenge = typeof body.challenge === "string" ? body.challenge : undefined;
    const handle = typeof body.handle === "string" ? body.handle : undefined;
    const found = challenge ? await findMfaChallenge(deps.sql, challenge, now()) : null;
    const ceremony = await takeCeremony(deps.sql, handle, challenge ? "second_factor" : "login", now());
    if (!ceremony || (challenge && !found)) return c.json({ error: MESSAGES.challenge_expired }, 401);
    const r = await passkeyLogin(
      deps.sql,
      {
        ceremony,
        response: body.response,
        mfaChallenge: challenge,
        sourceIp: clientIp(c),
        userAgent: c.req.header("User-Agent") ?? null,
      },
      now(),
      limits,
      deps.nodeId,
    );
    if (!r.ok) {
      const status = r.reason === "locked" || r.reason === "source_blocked" ? 429 : 401;
      const reason = r.reason === "code_needed" ? "bad_credentials" : r.reason;
      return c.json({ error: MESSAGES[reason] }, status);
    }
    setSessionCookie(c, secure, r.token, (r.expiresAt.getTime() - now().getTime()) / 1000);
    const next = found ? found.next : typeof body.next === "string" ? body.next : "/";
    return c.json({ redirect: safeNext(next) });
  });

  return app;
}
