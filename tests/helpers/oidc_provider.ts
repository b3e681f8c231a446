// A real OpenID provider for tests: npm oidc-provider (a certified implementation) on node:http on a free
// loopback port, its default in-memory adapter, a signing key made with WebCrypto, and its development
// interaction pages (any login name, no password check; then one consent). Each login name's groups are
// set by the test (setGroups) and reach the ID token (conformIdTokenClaims: false).
// oidc-provider ships no types (@types/oidc-provider would pull an @types/node that changes every node: type)
import Provider from "oidc-provider";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { Page } from "playwright-core";

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** the login name's groups claim from its next sign-in on (absent: no groups claim at all) */
  setGroups(login: string, groups: string[] | undefined): void;
  stop(): Promise<void>;
}

export async function startOidcProvider(opts: { redirectUris: string[] }): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => handler!(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "jumphost-console";
  const clientSecret = crypto.randomUUID() + crypto.randomUUID();
  const groups = new Map<string, string[] | undefined>();

  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: opts.redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    }],
    jwks: { keys: [{ ...jwk, kid: "test-key", use: "sig", alg: "RS256" }] },
    claims: { openid: ["sub"], profile: ["preferred_username", "name"], groups: ["groups"] },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [crypto.randomUUID()] },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => {
        const g = groups.get(id);
        return { sub: `sub-${id}`, preferred_username: id, name: id, ...(g ? { groups: g } : {}) };
      },
    }),
  });
  const cb = provider.callback();
  handler = (req, res) => void cb(req, res);
  return {
    issuer,
    clientId,
    clientSecret,
    setGroups: (login, g) => void groups.set(login, g),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Fills the provider's development login and consent pages (Chromium is on the provider's page). */
export async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForSelector("input[name=login]").catch(async (e) => {
    throw new Error(
      `no provider login form at ${page.url()}: ${(await page.textContent("body"))?.slice(0, 500)}`,
      {
        cause: e,
      },
    );
  });
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "any");
  await page.click("button[type=submit]");
  await page.waitForLoadState();
  // consent (first sign-in of this login for the client): one "Continue"
  const consent = await page.$("button[type=submit]:has-text('Continue')");
  if (consent) {
    await consent.click();
    await page.waitForLoadState();
  }
}
