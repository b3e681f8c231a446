-- The end-user portal: jump users log in to the console with their jump password (and TOTP code where
-- enrolled) and see only their own grants and sessions. Their sessions live apart from console accounts'
-- (another cookie, another table), so a portal session can never reach an admin page.
CREATE TABLE portal_sessions (
  token_hash   text PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   text NOT NULL,
  source_ip    inet,
  user_agent   text,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);

-- Wrong portal passwords in a row per jump user; at the limit the portal refuses the account for a while
-- (the SSH proxy's own throttles are separate: a portal lock does not lock anyone out of SSH).
CREATE TABLE portal_account_failures (
  user_id      bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_until timestamptz
);
