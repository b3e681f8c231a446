-- Search (issue 17): what was run, where and when. One row per command line typed in a recorded terminal
-- (rebuilt from the recording's input events: recorder/typed_lines.ts) and per exec command, with its moment
-- in the recording, indexed by trigrams (pg_trgm, created in migration 020) for substring search.
CREATE TABLE session_commands (
  id             bigserial PRIMARY KEY,
  session_id     bigint NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  recording_id   bigint REFERENCES recordings(id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('typed', 'exec')),
  at             timestamptz NOT NULL,
  -- seconds into the recording (typed lines), for the player to start there
  offset_seconds double precision,
  text           text NOT NULL
);
CREATE INDEX session_commands_session ON session_commands (session_id);
CREATE INDEX session_commands_at ON session_commands (at DESC, id DESC);
CREATE INDEX session_commands_text ON session_commands USING gin (text gin_trgm_ops);
