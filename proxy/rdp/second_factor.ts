// The second factor of an RDP connection, as SSH asks for it: required where the user has a factor (pending
// or active) or the decision demands one. With NLA the code comes after the user name (alice#123456) and is
// checked once the password is proven and the policy allows, before any backend is contacted; without NLA
// there is nowhere to type it, so a user with a factor is refused. Audited either way; fails closed.
import type { Allow, Server } from "../../policy/mod.ts";
import { type AuditContext, mfaFailed, mfaOk } from "./audit.ts";
import type { ProxyContext } from "./proxy_context.ts";

export type SecondFactorCheck = { ok: true } | { ok: false; reason: string; detail: string };

export async function checkSecondFactor(
  p: Pick<ProxyContext, "mfa" | "mfaSeparator" | "log" | "clock" | "audit">,
  ctx: AuditContext,
  d: Allow,
  server: Server,
  code: string | null,
  /** the client leg is NLA: a code could have been typed after the user name */
  nla: boolean,
): Promise<SecondFactorCheck> {
  const owner = { kind: "user" as const, id: d.userId, name: d.userName };
  const example = `${d.userName}${p.mfaSeparator}123456`;
  let has: boolean;
  try {
    if (!p.mfa) throw new Error("second factors are not available to this proxy");
    has = await p.mfa.has(owner);
  } catch (e) {
    p.log.error("cannot look up the user's second factor", { user: d.userName, error: String(e) });
    return { ok: false, reason: "mfa_unavailable", detail: `second factor lookup failed: ${String(e)}` };
  }
  if (!has) {
    if (d.requireMfa) {
      return {
        ok: false,
        reason: "mfa_not_enrolled",
        detail: `a second factor is required for ${d.userName} on ${server.name} and they have none enrolled`,
      };
    }
    if (code === null) return { ok: true };
    return {
      ok: false,
      reason: "mfa_not_enrolled",
      detail: `a verification code was given after the user name, but ${d.userName} has no factor enrolled`,
    };
  }
  if (code === null) {
    return {
      ok: false,
      reason: "mfa_required",
      detail: nla
        ? `${d.userName} has a second factor: type the code after the user name (${example})`
        : `${d.userName} has a second factor, which RDP without NLA cannot carry (connect with NLA as ${example})`,
    };
  }
  const r = await p.mfa!.verify(owner, code, new Date(p.clock.now()));
  if (!r.ok) {
    p.audit(mfaFailed(ctx, r.reason));
    return {
      ok: false,
      reason: r.reason === "unreadable" ? "mfa_unavailable" : `mfa_${r.reason}`,
      detail: r.reason === "unreadable"
        ? "the TOTP secret cannot be opened (appliance key)"
        : `verification code refused: ${r.reason}`,
    };
  }
  p.audit(mfaOk(ctx, r.method, r.confirmedNow));
  return { ok: true };
}
