-- Audit events written late (replayed from a proxy's local spool after a database outage) carry the time
-- they happened in `at` and an id given when they happened, so a replay interrupted by a crash and run
-- again writes no row twice.
ALTER TABLE audit_log ADD COLUMN event_id uuid;
CREATE UNIQUE INDEX audit_log_event_id ON audit_log (event_id);
