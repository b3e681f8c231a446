-- OpenID Connect single sign-on: console accounts made by an SSO login carry the provider's issuer and the
-- user's subject there (the stable identity; the name is only where it started). They have no local password.
ALTER TABLE console_users ADD COLUMN oidc_issuer text;
ALTER TABLE console_users ADD COLUMN oidc_subject text;
ALTER TABLE console_users ADD CONSTRAINT console_users_oidc_identity UNIQUE (oidc_issuer, oidc_subject);
ALTER TABLE console_users ADD CONSTRAINT console_users_oidc_both
  CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));
