-- Passkeys (WebAuthn) for console accounts: a second factor after the password, or a passwordless login
-- (a discoverable credential with user verification is both factors at once).
CREATE TABLE console_passkeys (
  id              bigserial PRIMARY KEY,
  console_user_id bigint NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
  -- the credential id as base64url, as browsers send it
  credential_id   text NOT NULL UNIQUE
                  CHECK (length(credential_id) BETWEEN 16 AND 1400 AND credential_id ~ '^[A-Za-z0-9_-]+$'),
  public_key      bytea NOT NULL,
  -- the authenticator's signature counter; a value that does not grow (when not 0) means a cloned key
  sign_count      bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports      text[] NOT NULL DEFAULT '{}',
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  -- the host name (WebAuthn RP ID) it was registered for: it only works there
  rp_id           text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz
);
CREATE INDEX console_passkeys_user ON console_passkeys (console_user_id);

-- A WebAuthn ceremony in progress: the challenge the server issued, found by the hash of a random handle the
-- browser holds (a cookie, or the console session), good once and for a few minutes.
CREATE TABLE webauthn_challenges (
  handle_hash     text PRIMARY KEY,
  purpose         text NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
  -- register: the account adding a passkey; second_factor: the account whose password was right
  console_user_id bigint REFERENCES console_users(id) ON DELETE CASCADE,
  challenge       text NOT NULL,
  rp_id           text NOT NULL,
  origin          text NOT NULL,
  expires_at      timestamptz NOT NULL
);
