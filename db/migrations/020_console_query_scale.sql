-- The console's searches at scale (millions of sessions, tens of millions of audit rows): every filter the
-- console offers walks an index.

-- audit page, user filter: the rows a user acts in, is the target of, or is named in (db/audit.ts walks the
-- three newest-first and merges them)
CREATE INDEX audit_log_target ON audit_log (target, at DESC, id DESC) WHERE target IS NOT NULL;
CREATE INDEX audit_log_details_user ON audit_log ((details->>'user'), at DESC, id DESC)
  WHERE details->>'user' IS NOT NULL;

-- sessions page, text search (a substring of the session id, user, server, login or source address): one
-- trigram index over the five, joined by a unit separator no one types. pg_trgm ships with PostgreSQL and
-- is a trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION session_search_text(session_id text, user_name text, server_name text, ssh_login text,
                                    source_ip inet) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT session_id || chr(31) || user_name || chr(31) || server_name || chr(31)
               || coalesce(ssh_login, '') || chr(31) || host(source_ip) $$;
CREATE INDEX sessions_search ON sessions
  USING gin (session_search_text(session_id, user_name, server_name, ssh_login, source_ip) gin_trgm_ops);
