-- RDP Network Level Authentication: what the proxy needs at rest, sealed with the appliance secret
-- (db/secret_box.ts; the database never sees the key).

-- The NT hash (MD4 of the UTF-16LE password) NTLM needs to check a jump user's password. Written whenever the
-- password is set or changed; users whose password predates this column get it at their next change.
ALTER TABLE users ADD COLUMN nt_hash_sealed text;

-- Which RDP security a server's clients may use: nla (CredSSP required), tls (no NLA offered), any (NLA
-- when the client offers it; TLS only where the source address identifies exactly one user).
ALTER TABLE servers ADD COLUMN rdp_security text NOT NULL DEFAULT 'any'
  CHECK (rdp_security IN ('nla', 'tls', 'any'));

-- Windows credentials the proxy injects toward a server (the end user never learns them). One row per
-- login; the login is kept as typed, unique the way Windows compares names (case-insensitively).
CREATE TABLE server_credentials (
  id              bigserial PRIMARY KEY,
  server_id       bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  login           text NOT NULL CHECK (length(login) BETWEEN 1 AND 256),
  password_sealed text NOT NULL,
  set_by          text NOT NULL,
  set_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX server_credentials_login ON server_credentials (server_id, lower(login));

-- Failed NLA logons, counted per jump user and per source address (like console_login_throttle).
CREATE TABLE nla_throttle (
  kind         text NOT NULL CHECK (kind IN ('user', 'source')),
  key          text NOT NULL,
  failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_start timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  PRIMARY KEY (kind, key)
);
