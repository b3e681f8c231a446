-- Strong authentication: TOTP (RFC 6238) second factors for jump users and console accounts, their
-- recovery codes, and where MFA is demanded.

-- One TOTP factor per jump user or console account. The secret is sealed with the appliance secret
-- (core/secret_box.ts). confirmed_at is null while pending: a console enrolment confirms with its first
-- code; a CLI enrolment at the first correct code at the SSH prompt. last_step is the last accepted
-- RFC 6238 time-step: a code is accepted once (no replay inside its window).
CREATE TABLE totp_factors (
  id              bigserial PRIMARY KEY,
  user_id         bigint UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  console_user_id bigint UNIQUE REFERENCES console_users(id) ON DELETE CASCADE,
  secret_sealed   text NOT NULL,
  confirmed_at    timestamptz,
  last_step       bigint,
  -- wrong codes in a row; at MAX the factor refuses every code for a while (guessing across connections)
  failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (console_user_id IS NULL))
);

-- Ten one-time recovery codes per factor, stored as SHA-256 of the code (60 random bits each).
CREATE TABLE totp_recovery_codes (
  factor_id  bigint NOT NULL REFERENCES totp_factors(id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (factor_id, code_hash)
);

-- A console login waiting for its verification code (the password was right); deleted on success.
CREATE TABLE console_mfa_challenges (
  token_hash      text PRIMARY KEY,
  console_user_id bigint NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
  next_path       text NOT NULL,
  expires_at      timestamptz NOT NULL
);

ALTER TABLE users ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;
ALTER TABLE console_users ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;
ALTER TABLE servers ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
ALTER TABLE policies ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
