-- RDP recording → MP4 conversion queue, worked by the in-process pools of every node on this database.
--
-- A job is pending (waiting, possibly for its retry time), running (claimed by one pool: locked_by and a
-- heartbeat), or finished: done, failed (retries used up), cancelled, quarantined (the recording itself
-- cannot be rendered; retrying would not help). A recording has at most one pending/running job.

CREATE TABLE conversions (
  id              bigserial PRIMARY KEY,
  recording_id    bigint NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  state           text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled', 'quarantined')),
  rush            boolean NOT NULL DEFAULT false,
  -- rushed jobs run in the order they were rushed
  rushed_at       timestamptz,
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts    integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  progress        real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  eta_seconds     integer CHECK (eta_seconds >= 0),
  error           text,
  -- the recording as it was converted (or found at enqueue): a different size/mtime means it changed
  source_size     bigint NOT NULL CHECK (source_size >= 0),
  source_mtime    timestamptz,
  output_path     text,
  output_size     bigint,
  video_width     integer,
  video_height    integer,
  video_frames    integer,
  duration_ms     bigint,
  -- who runs it: the node, and the claim token of one pool slot (only that holder may report on it)
  worker_node     text,
  locked_by       text,
  heartbeat_at    timestamptz,
  requested_by    text NOT NULL,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  cancelled_by    text,
  CHECK ((state = 'running') = (locked_by IS NOT NULL)),
  CHECK ((state = 'running') = (heartbeat_at IS NOT NULL)),
  CHECK (rush = (rushed_at IS NOT NULL)),
  CHECK ((state IN ('done', 'failed', 'cancelled', 'quarantined')) = (finished_at IS NOT NULL)),
  CHECK (state <> 'done' OR output_size IS NOT NULL)
);
CREATE UNIQUE INDEX conversions_one_live ON conversions (recording_id) WHERE state IN ('pending', 'running');
CREATE INDEX conversions_queue ON conversions (rush DESC, rushed_at, requested_at, id) WHERE state = 'pending';
CREATE INDEX conversions_running ON conversions (heartbeat_at) WHERE state = 'running';
CREATE INDEX conversions_recording ON conversions (recording_id, id DESC);
CREATE INDEX conversions_output ON conversions (output_path) WHERE output_path IS NOT NULL;

-- The pools alive right now (one row per serving process, refreshed by its heartbeat), so the CLI and
-- the console can tell whether a queued job will be picked up.
CREATE TABLE conversion_pools (
  pool_id      text PRIMARY KEY,
  node_id      text NOT NULL,
  slots        integer NOT NULL CHECK (slots BETWEEN 1 AND 64),
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Wakes idle pools (new or rushed job), tells the holder of a cancelled job to stop, refreshes consoles.
CREATE OR REPLACE FUNCTION jumphost_conversion_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('conversion_changed', json_build_object(
    'id', NEW.id, 'recording_id', NEW.recording_id, 'state', NEW.state)::text);
  RETURN NULL;
END $$;

CREATE TRIGGER conversions_notify_insert AFTER INSERT ON conversions
  FOR EACH ROW EXECUTE FUNCTION jumphost_conversion_changed();
CREATE TRIGGER conversions_notify_update AFTER UPDATE ON conversions
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.rush IS DISTINCT FROM NEW.rush
                     OR OLD.next_attempt_at IS DISTINCT FROM NEW.next_attempt_at)
  EXECUTE FUNCTION jumphost_conversion_changed();
