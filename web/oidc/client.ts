// The console's OpenID Connect relying party over npm:openid-client: discovery (at start, retried when a
// login needs it), the authorization request (code flow, PKCE S256, state, nonce) and the code exchange with
// its checks. No secret is ever put in a message: errors name the issuer and what failed.
import * as oc from "openid-client";
import type { OidcConfig } from "../../core/oidc/config.ts";

export class OidcError extends Error {
  constructor(
    readonly code: "unreachable" | "provider_error" | "bad_response",
    message: string,
  ) {
    super(message);
    this.name = "OidcError";
  }
}

/** What the browser's flow cookie must keep between the start and the callback. */
export interface FlowChecks {
  state: string;
  nonce: string;
  verifier: string;
  redirectUrl: string;
}

export interface OidcClient {
  readonly config: OidcConfig;
  /** discovers now (or returns the discovered metadata); throws OidcError("unreachable") */
  ready(): Promise<void>;
  /** the provider's authorization URL and the checks to keep */
  start(redirectUrl: string): Promise<{ url: URL; checks: FlowChecks }>;
  /** exchanges the code of the callback's query and returns the ID token's claims */
  finish(query: URLSearchParams, checks: FlowChecks): Promise<Record<string, unknown>>;
}

const DISCOVERY_RETRY_MS = 10_000;
const TIMEOUT_S = 10;

export function createOidcClient(config: OidcConfig, now: () => number = Date.now): OidcClient {
  let discovered: oc.Configuration | null = null;
  let pending: Promise<oc.Configuration> | null = null;
  let lastFailure: { at: number; error: OidcError } | null = null;

  const discover = async (): Promise<oc.Configuration> => {
    if (discovered) return discovered;
    if (lastFailure && now() - lastFailure.at < DISCOVERY_RETRY_MS) throw lastFailure.error;
    pending ??= oc.discovery(
      new URL(config.issuer),
      config.clientId,
      undefined,
      config.clientSecret === null ? oc.None() : oc.ClientSecretPost(config.clientSecret),
      { execute: config.allowInsecure ? [oc.allowInsecureRequests] : [], timeout: TIMEOUT_S },
    ).then((c) => {
      discovered = c;
      lastFailure = null;
      return c;
    }, (e) => {
      lastFailure = {
        at: now(),
        error: new OidcError(
          "unreachable",
          `the OpenID provider ${config.issuer} did not answer discovery: ${describe(e)}`,
        ),
      };
      throw lastFailure.error;
    }).finally(() => {
      pending = null;
    });
    return await pending;
  };

  return {
    config,
    async ready() {
      await discover();
    },
    async start(redirectUrl) {
      const c = await discover();
      const checks: FlowChecks = {
        state: oc.randomState(),
        nonce: oc.randomNonce(),
        verifier: oc.randomPKCECodeVerifier(),
        redirectUrl,
      };
      const url = oc.buildAuthorizationUrl(c, {
        redirect_uri: redirectUrl,
        scope: config.scopes,
        code_challenge: await oc.calculatePKCECodeChallenge(checks.verifier),
        code_challenge_method: "S256",
        state: checks.state,
        nonce: checks.nonce,
      });
      return { url, checks };
    },
    async finish(query, checks) {
      const c = await discover();
      // the redirect_uri sent with the code is the current URL without its query: the configured one
      const current = new URL(checks.redirectUrl);
      for (const [k, v] of query) current.searchParams.append(k, v);
      let tokens;
      try {
        tokens = await oc.authorizationCodeGrant(c, current, {
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          pkceCodeVerifier: checks.verifier,
          idTokenExpected: true,
        });
      } catch (e) {
        if (e instanceof oc.AuthorizationResponseError) {
          throw new OidcError("provider_error", `the provider refused: ${e.error}`);
        }
        if (e instanceof oc.ResponseBodyError) {
          throw new OidcError("provider_error", `the provider's token endpoint answered ${e.error}`);
        }
        if (
          e instanceof TypeError || (e as Error)?.name === "AbortError" ||
          (e as Error)?.name === "TimeoutError"
        ) {
          throw new OidcError(
            "unreachable",
            `the OpenID provider ${config.issuer} did not answer: ${describe(e)}`,
          );
        }
        throw new OidcError("bad_response", `the provider's answer failed a check: ${describe(e)}`);
      }
      const claims = tokens.claims();
      if (!claims) throw new OidcError("bad_response", "the provider sent no ID token");
      return { ...claims } as Record<string, unknown>;
    },
  };
}

function describe(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const parts = [err?.code, err?.message ?? String(e), err?.cause?.code ?? err?.cause?.message].filter(
    Boolean,
  );
  return parts.join(": ").slice(0, 300);
}
