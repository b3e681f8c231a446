import assert from "node:assert/strict";
import { OidcConfigError, oidcRoleFor, resolveOidcConfig } from "./config.ts";

const base = {
  oidc_issuer: "https://idp.example.com/realms/corp",
  oidc_client_id: "jumphost",
  oidc_client_secret_file: "/etc/jumphost/oidc.secret",
  oidc_role_admin: "jh-admins",
};
const files = (p: string) => {
  if (p === "/etc/jumphost/oidc.secret") return "file-secret\n";
  throw new Error("no such file");
};
const refused = (file: Record<string, unknown>, key: string, env: Record<string, string> = {}) =>
  assert.throws(
    () => resolveOidcConfig(file, env, files),
    (e) => e instanceof OidcConfigError && e.key === key,
  );

Deno.test("oidc config: off without oidc_issuer; defaults; the secret from its file", () => {
  assert.equal(resolveOidcConfig({}, {}, files), null);
  const c = resolveOidcConfig(base, {}, files)!;
  assert.equal(c.clientSecret, "file-secret");
  assert.equal(c.scopes, "openid profile email");
  assert.equal(c.groupsClaim, "groups");
  assert.equal(c.usernameClaim, "preferred_username");
  assert.equal(c.providerName, "idp.example.com");
  assert.equal(c.redirectUrl, null);
  assert.equal(c.trustMfa, true);
  assert.deepEqual(c.roleGroups, { admin: ["jh-admins"], operator: [], auditor: [] });
});

Deno.test("oidc config: the environment wins; the secret from JUMPHOST_OIDC_CLIENT_SECRET; lists of groups", () => {
  const c = resolveOidcConfig(
    { ...base, oidc_role_auditor: ["audit", "security "] },
    {
      JUMPHOST_OIDC_CLIENT_SECRET: "env-secret",
      JUMPHOST_OIDC_ROLE_OPERATOR: "ops, noc",
      JUMPHOST_OIDC_TRUST_MFA: "false",
      JUMPHOST_OIDC_SCOPES: "openid,profile groups",
      JUMPHOST_OIDC_REDIRECT_URL: "https://jump.example.com/login/oidc/callback",
    },
    files,
  )!;
  assert.equal(c.clientSecret, "env-secret");
  assert.deepEqual(c.roleGroups.operator, ["ops", "noc"]);
  assert.deepEqual(c.roleGroups.auditor, ["audit", "security"]);
  assert.equal(c.trustMfa, false);
  assert.equal(c.scopes, "openid profile groups");
  assert.equal(c.redirectUrl, "https://jump.example.com/login/oidc/callback");
  // a public client (no secret at all) is allowed: PKCE protects the code
  const pub = resolveOidcConfig({ ...base, oidc_client_secret_file: undefined }, {}, files)!;
  assert.equal(pub.clientSecret, null);
});

Deno.test("oidc config: refused settings name their key", () => {
  refused({ ...base, oidc_issuer: "http://idp.example.com" }, "oidc_issuer");
  refused({ ...base, oidc_issuer: "idp.example.com" }, "oidc_issuer");
  refused({ ...base, oidc_issuer: "https://idp.example.com/?x=1" }, "oidc_issuer");
  refused({ ...base, oidc_client_id: undefined }, "oidc_client_id");
  refused({ ...base, oidc_client_secret: "inline" }, "oidc_client_secret_file");
  refused({ ...base, oidc_client_secret_file: "/missing" }, "oidc_client_secret_file");
  refused({ ...base, oidc_scopes: "profile email" }, "oidc_scopes");
  refused({ ...base, oidc_groups_claim: "bad claim" }, "oidc_groups_claim");
  refused({ ...base, oidc_role_admin: undefined }, "oidc_role_admin");
  refused({ ...base, oidc_role_operator: 7 }, "oidc_role_operator");
  refused({ ...base, oidc_trust_mfa: "maybe" }, "oidc_trust_mfa");
  refused({ ...base, oidc_redirect_url: "http://jump.example.com/cb" }, "oidc_redirect_url");
  // plain http only with oidc_allow_insecure (tests on loopback)
  const insecure = resolveOidcConfig(
    { ...base, oidc_issuer: "http://127.0.0.1:9000", oidc_allow_insecure: true },
    {},
    files,
  )!;
  assert.equal(insecure.allowInsecure, true);
});

Deno.test("oidc roles: the strongest mapped group wins; exact names; none → null", () => {
  const groups = { admin: ["jh-admins"], operator: ["ops"], auditor: ["audit", "ops"] };
  assert.equal(oidcRoleFor(groups, ["audit", "ops"]), "operator");
  assert.equal(oidcRoleFor(groups, ["audit", "jh-admins"]), "admin");
  assert.equal(oidcRoleFor(groups, ["audit"]), "auditor");
  assert.equal(oidcRoleFor(groups, "audit"), "auditor");
  assert.equal(oidcRoleFor(groups, ["JH-ADMINS"]), null);
  assert.equal(oidcRoleFor(groups, []), null);
  assert.equal(oidcRoleFor(groups, undefined), null);
  assert.equal(oidcRoleFor(groups, [42, { name: "jh-admins" }]), null);
});
