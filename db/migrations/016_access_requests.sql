-- Just-in-time access (issue 15): a user asks for access at the moment of need (from the SSH prompt, an SSH exec
-- command, or later the portal); approvers say yes or no. An approved request becomes an ordinary time-bounded
-- policy linked back to it. Per server group: how many approvals a request needs, the longest access it may get,
-- and optional named approvers (console users) besides admins.
ALTER TABLE server_groups
  ADD COLUMN request_approvals integer NOT NULL DEFAULT 1 CHECK (request_approvals BETWEEN 1 AND 10),
  ADD COLUMN request_max_minutes integer NOT NULL DEFAULT 480 CHECK (request_max_minutes BETWEEN 1 AND 10080),
  ADD COLUMN request_approvers text[] NOT NULL DEFAULT '{}' CHECK (cardinality(request_approvers) <= 50);

CREATE TABLE access_requests (
  id               bigserial PRIMARY KEY,
  user_id          bigint REFERENCES users(id) ON DELETE SET NULL,
  user_name        text NOT NULL,
  -- the server as asked; a name no server has is kept (server_id NULL) so the asker learns nothing
  server_id        bigint REFERENCES servers(id) ON DELETE SET NULL,
  server_name      text NOT NULL CHECK (length(server_name) BETWEEN 1 AND 64),
  protocol         text NOT NULL CHECK (protocol IN ('ssh', 'rdp')),
  logins           text[] NOT NULL CHECK (cardinality(logins) BETWEEN 1 AND 16),
  minutes          integer NOT NULL CHECK (minutes BETWEEN 1 AND 10080),
  reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  source_ip        inet,
  via              text NOT NULL CHECK (via IN ('ssh_prompt', 'ssh_exec', 'portal')),
  state            text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  -- the rules of the server's groups when it was asked (later edits do not move the goal posts)
  approvals_needed integer NOT NULL CHECK (approvals_needed BETWEEN 1 AND 10),
  max_minutes      integer NOT NULL CHECK (max_minutes BETWEEN 1 AND 10080),
  approvers        text[] NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  decided_at       timestamptz,
  decided_by       text,
  decision_note    text CHECK (length(decision_note) <= 500),
  granted_minutes  integer,
  granted_logins   text[],
  policy_id        bigint REFERENCES policies(id) ON DELETE SET NULL,
  CHECK ((state = 'pending') = (decided_at IS NULL)),
  CHECK (expires_at > created_at)
);
CREATE INDEX access_requests_pending ON access_requests (created_at) WHERE state = 'pending';
CREATE INDEX access_requests_user ON access_requests (user_id, created_at DESC);

CREATE TABLE access_request_approvals (
  request_id bigint NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
  -- the console user who approved
  approver   text NOT NULL,
  note       text CHECK (length(note) <= 500),
  minutes    integer NOT NULL CHECK (minutes BETWEEN 1 AND 10080),
  logins     text[] NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, approver)
);

-- the policy an approved request created (NULL for every other policy)
ALTER TABLE policies ADD COLUMN access_request_id bigint REFERENCES access_requests(id) ON DELETE SET NULL;
