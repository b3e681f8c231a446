-- Web console: login sessions, per-source throttling, and indexes the console's lists and dashboard need.

-- A console login. The cookie carries a random token; only its SHA-256 is stored, so a database
-- dump cannot be replayed as a cookie.
CREATE TABLE console_sessions (
  token_hash      text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  console_user_id bigint NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
  csrf_token      text NOT NULL,
  source_ip       inet,
  user_agent      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz NOT NULL DEFAULT now(),
  -- absolute lifetime, fixed at login; the idle limit is applied against last_seen_at
  expires_at      timestamptz NOT NULL,
  CHECK (expires_at > created_at)
);
CREATE INDEX console_sessions_user ON console_sessions (console_user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- Failed logins per source address (the per-account counter lives in console_users).
CREATE TABLE console_login_throttle (
  source_ip    inet PRIMARY KEY,
  failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_start timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz
);

-- Session history filters and the dashboard charts.
CREATE INDEX sessions_user_name ON sessions (user_name, started_at DESC, id DESC);
CREATE INDEX sessions_server_name ON sessions (server_name, started_at DESC, id DESC);
CREATE INDEX sessions_protocol_started ON sessions (protocol, started_at DESC, id DESC);
-- "top users" on the dashboard counts a week of sessions from the index alone
CREATE INDEX sessions_started_user ON sessions (started_at, user_name);
CREATE INDEX audit_log_source_ip ON audit_log (source_ip, at DESC) WHERE source_ip IS NOT NULL;
