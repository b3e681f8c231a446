-- Core access model, sessions, recordings, audit log and console users.

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  email         text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
  full_name     text,
  active        boolean NOT NULL DEFAULT true,
  password_hash text,
  totp_secret   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_ssh_keys (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  public_key  text NOT NULL,
  key_type    text NOT NULL,
  fingerprint text NOT NULL,
  comment     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, fingerprint)
);

CREATE TABLE user_source_ips (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  cidr       cidr NOT NULL,
  -- a shared CIDR (NAT, VPN pool) may belong to several users; identity then needs a key or password
  shared     boolean NOT NULL DEFAULT false,
  label      text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, cidr)
);
CREATE UNIQUE INDEX user_source_ips_unshared ON user_source_ips (cidr) WHERE NOT shared;

CREATE TABLE user_groups (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_group_members (
  group_id bigint NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
  user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX user_group_members_user ON user_group_members (user_id);

CREATE TABLE servers (
  id              bigserial PRIMARY KEY,
  name            text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  address         text NOT NULL CHECK (length(address) BETWEEN 1 AND 255),
  ssh_port        integer NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
  rdp_port        integer NOT NULL DEFAULT 3389 CHECK (rdp_port BETWEEN 1 AND 65535),
  protocols       text[] NOT NULL DEFAULT '{ssh}'
                  CHECK (cardinality(protocols) > 0 AND protocols <@ ARRAY['ssh', 'rdp']),
  pool_ip         inet UNIQUE,
  rdp_listen_port integer UNIQUE CHECK (rdp_listen_port BETWEEN 1 AND 65535),
  host_key        text,
  host_key_pinned_at timestamptz,
  description     text,
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE server_groups (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE server_group_members (
  group_id  bigint NOT NULL REFERENCES server_groups(id) ON DELETE CASCADE,
  server_id bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, server_id)
);
CREATE INDEX server_group_members_server ON server_group_members (server_id);

CREATE TABLE policies (
  id              bigserial PRIMARY KEY,
  user_id         bigint REFERENCES users(id) ON DELETE CASCADE,
  user_group_id   bigint REFERENCES user_groups(id) ON DELETE CASCADE,
  server_id       bigint REFERENCES servers(id) ON DELETE CASCADE,
  server_group_id bigint REFERENCES server_groups(id) ON DELETE CASCADE,
  protocols       text[] NOT NULL DEFAULT '{ssh,rdp}'
                  CHECK (cardinality(protocols) > 0 AND protocols <@ ARRAY['ssh', 'rdp']),
  logins          text[] NOT NULL DEFAULT '{}',
  port_forwarding boolean NOT NULL DEFAULT false,
  valid_from      timestamptz NOT NULL DEFAULT now(),
  valid_until     timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_by      text,
  revoke_reason   text,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(user_id, user_group_id) = 1),
  CHECK (num_nonnulls(server_id, server_group_id) = 1),
  CHECK (valid_until > valid_from),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX policies_user ON policies (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX policies_user_group ON policies (user_group_id) WHERE user_group_id IS NOT NULL;
CREATE INDEX policies_live ON policies (valid_until) WHERE revoked_at IS NULL;

CREATE TABLE ip_allocations (
  id           bigserial PRIMARY KEY,
  ip           inet NOT NULL,
  server_id    bigint REFERENCES servers(id) ON DELETE SET NULL,
  allocated_at timestamptz NOT NULL DEFAULT now(),
  released_at  timestamptz,
  CHECK (released_at IS NULL OR released_at >= allocated_at)
);
CREATE UNIQUE INDEX ip_allocations_live ON ip_allocations (ip) WHERE released_at IS NULL;

CREATE TABLE sessions (
  id                 bigserial PRIMARY KEY,
  session_id         text NOT NULL UNIQUE,
  user_id            bigint REFERENCES users(id) ON DELETE SET NULL,
  server_id          bigint REFERENCES servers(id) ON DELETE SET NULL,
  -- names kept so history survives deletes
  user_name          text NOT NULL,
  server_name        text NOT NULL,
  protocol           text NOT NULL CHECK (protocol IN ('ssh', 'rdp')),
  source_ip          inet NOT NULL,
  proxy_ip           inet,
  backend_ip         text,
  backend_port       integer,
  ssh_login          text,
  subsystem          text,
  ssh_agent_used     boolean NOT NULL DEFAULT false,
  started_at         timestamptz NOT NULL DEFAULT now(),
  ended_at           timestamptz,
  duration_seconds   integer,
  is_active          boolean NOT NULL DEFAULT true,
  termination_reason text CHECK (termination_reason IN
                       ('normal', 'error', 'timeout', 'killed', 'expired', 'revoked', 'shutdown')),
  termination_detail text,
  recording_path     text,
  recording_size     bigint,
  policy_id          bigint REFERENCES policies(id) ON DELETE SET NULL,
  node_id            text NOT NULL,
  metadata           jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (is_active = (ended_at IS NULL)),
  CHECK (ended_at IS NULL OR termination_reason IS NOT NULL)
);
CREATE INDEX sessions_active ON sessions (started_at DESC) WHERE is_active;
CREATE INDEX sessions_started ON sessions (started_at DESC, id DESC);
CREATE INDEX sessions_user ON sessions (user_id, started_at DESC);
CREATE INDEX sessions_server ON sessions (server_id, started_at DESC);
CREATE INDEX sessions_policy ON sessions (policy_id) WHERE is_active;

CREATE TABLE recordings (
  id          bigserial PRIMARY KEY,
  session_id  bigint NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('asciicast', 'rdp')),
  channel     text,
  path        text NOT NULL UNIQUE,
  size        bigint NOT NULL DEFAULT 0,
  started_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz
);
CREATE INDEX recordings_session ON recordings (session_id);

CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text,
  source_ip  inet,
  success    boolean NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}',
  node_id    text
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
CREATE INDEX audit_log_denials ON audit_log (at DESC) WHERE NOT success;

CREATE TABLE console_users (
  id              bigserial PRIMARY KEY,
  name            text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
  password_hash   text NOT NULL,
  role            text NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
  active          boolean NOT NULL DEFAULT true,
  failed_logins   integer NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  last_login_at   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Bump on every change that affects access decisions (triggers below notify listeners).
CREATE OR REPLACE FUNCTION jumphost_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('policy_changed', TG_TABLE_NAME);
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users', 'user_ssh_keys', 'user_source_ips', 'user_groups',
    'user_group_members', 'servers', 'server_groups', 'server_group_members', 'policies']
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
      FOR EACH STATEMENT EXECUTE FUNCTION jumphost_policy_changed()', t || '_notify', t);
  END LOOP;
END $$;
