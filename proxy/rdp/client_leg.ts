// Which protocol the client leg gets, decided at the X.224 negotiation before anyone authenticates: the
// dialled address names the target, whose rdp_security (negotiation.ts) and the client's offer decide;
// NLA needs CredSSP (the appliance key) and, under "any", a source user who can pass it. Never fails open.
import { identifySource, type RdpSecurity, type Server } from "../../policy/mod.ts";
import { routeServer } from "./admission.ts";
import { chooseClientProtocol, type ClientLegChoice, isNla } from "./negotiation.ts";
import { HYBRID_REQUIRED_BY_SERVER } from "./pdu/mod.ts";
import type { ProxyContext } from "./proxy_context.ts";

/** A server's rdp_security; an unroutable connection gets the TLS-only refusal path. */
function serverSecurity(server: Server | undefined): RdpSecurity {
  return server?.rdpSecurity ?? "tls";
}

export async function chooseClientLeg(
  p: Pick<ProxyContext, "snapshots" | "nla" | "log">,
  /** the client's RDP_NEG_REQ requestedProtocols, null without one */
  requested: number | null,
  sourceIp: string,
  dialled: { localAddress: string; localPort: number },
): Promise<{ choice: ClientLegChoice; target: Server | undefined }> {
  const snapshot = p.snapshots.get();
  const target = snapshot ? routeServer(snapshot, dialled.localAddress, dialled.localPort) : undefined;
  const security = serverSecurity(target);
  // without CredSSP (no appliance key) "any" means TLS, and "nla" refuses everyone
  let choice = chooseClientProtocol(requested, !p.nla && security === "any" ? "tls" : security);
  if (choice.ok && isNla(choice.protocol) && security === "any" && snapshot && p.nla) {
    // "any" keeps TLS clients working; a known caller who cannot pass NLA yet (no password, or one set
    // before NT hashes were kept) is not pushed into a logon that must fail: TLS, as before
    const source = identifySource(snapshot, sourceIp);
    const can = source.kind === "user" &&
      await p.nla.canAuthenticate(source.user.name).catch(() => true); // the logon will say why
    if (source.kind === "user" && !can) {
      p.log.debug("NLA not offered: the source's user has no NT hash yet", { user: source.user.name });
      choice = chooseClientProtocol(requested, "tls");
    }
  }
  if (choice.ok && isNla(choice.protocol) && !p.nla) {
    choice = {
      ok: false,
      failureCode: HYBRID_REQUIRED_BY_SERVER,
      reason: "nla_required",
      detail: "the server requires NLA, which is off (the appliance key could not be loaded)",
    };
  }
  return { choice, target };
}
