-- Nodes: every `serve` sharing this database registers here and beats every 5 s. A node whose beat stops
-- for node_lost_after seconds is declared lost by another live node, once (state 'up' → 'lost' in one
-- UPDATE): its open sessions end as 'node_lost', its claimed conversion jobs go back to the queue.
CREATE TABLE nodes (
  name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
  -- one per start: a second process started under the same name takes the row over, the first one
  -- notices at its next beat
  boot_id       uuid NOT NULL,
  state         text NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'stopped', 'lost')),
  version       text NOT NULL,
  ssh_listen    text[] NOT NULL DEFAULT '{}',
  rdp_listen    text[] NOT NULL DEFAULT '{}',
  web_listen    text[] NOT NULL DEFAULT '{}',
  started_at    timestamptz NOT NULL DEFAULT now(),
  -- the database's clock, never the node's: health does not depend on the nodes agreeing on the time
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  -- the node's clock minus the database's at the last beat (doctor: clock skew between nodes)
  clock_skew_ms bigint NOT NULL DEFAULT 0,
  stopped_at    timestamptz,
  lost_at       timestamptz,
  lost_by       text,
  CHECK ((state = 'lost') = (lost_at IS NOT NULL)),
  CHECK ((state = 'stopped') = (stopped_at IS NOT NULL))
);

ALTER TABLE sessions DROP CONSTRAINT sessions_termination_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_termination_reason_check CHECK (termination_reason IN
  ('normal', 'error', 'timeout', 'killed', 'expired', 'revoked', 'shutdown', 'node_lost'));
CREATE INDEX sessions_active_node ON sessions (node_id) WHERE is_active;
CREATE INDEX conversions_running_node ON conversions (worker_node) WHERE state = 'running';
