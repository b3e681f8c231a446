-- Tamper evidence (issue 17). Every audit_log row carries the SHA-256 of its canonical encoding, which
-- includes the hash of the row before it (prev_hash): editing, deleting or reordering a row breaks the
-- chain. One trigger computes the hash in the database, under the row lock of audit_chain_head, so rows
-- written concurrently by several isolates, processes or appliances still form one line, in id order.
-- The encoding is documented in db/audit_chain.ts (which rebuilds it to verify) and README.md.

ALTER TABLE audit_log ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- A string field: its UTF-8 byte length, a colon, the text; NULL is "-".
CREATE FUNCTION jumphost_audit_str(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN '-' ELSE octet_length(convert_to(v, 'UTF8'))::text || ':' || v END
$$;

-- The canonical encoding of a row (version 1): UTF-8 lines "name value\n" in this order.
CREATE FUNCTION jumphost_audit_canonical(r audit_log) RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT convert_to(
    'jumphost-audit-v1' || E'\n' ||
    'id ' || r.id::text || E'\n' ||
    'at ' || to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n' ||
    'event_id ' || COALESCE(r.event_id::text, '-') || E'\n' ||
    'actor ' || jumphost_audit_str(r.actor) || E'\n' ||
    'action ' || jumphost_audit_str(r.action) || E'\n' ||
    'target ' || jumphost_audit_str(r.target) || E'\n' ||
    'source_ip ' || COALESCE(r.source_ip::text, '-') || E'\n' ||
    'success ' || CASE WHEN r.success THEN 'true' ELSE 'false' END || E'\n' ||
    'details ' || jumphost_audit_str(r.details::text) || E'\n' ||
    'node_id ' || jumphost_audit_str(r.node_id) || E'\n' ||
    'prev ' || encode(r.prev_hash, 'hex') || E'\n',
    'UTF8')
$$;

-- The end of the chain: the last row's id and hash, as of the last statement that wrote rows. Its row lock
-- is the chaining step's mutex, and a deleted last row is still noticed (the head names it).
CREATE TABLE audit_chain_head (
  one      boolean PRIMARY KEY DEFAULT true CHECK (one),
  last_id  bigint NOT NULL,
  hash     bytea NOT NULL
);
INSERT INTO audit_chain_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

DO $$
DECLARE
  r audit_log;
  h bytea := decode(repeat('00', 32), 'hex');
  last bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    r.prev_hash := h;
    h := sha256(jumphost_audit_canonical(r));
    UPDATE audit_log SET prev_hash = r.prev_hash, hash = h WHERE id = r.id;
    last := r.id;
  END LOOP;
  UPDATE audit_chain_head SET last_id = last, hash = h;
END $$;

ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
-- ids are given by the trigger, under the lock, so id order is chain order; without the trigger an
-- insert fails (no id) rather than leaving an unchained row
ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;

CREATE FUNCTION jumphost_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head audit_chain_head%ROWTYPE;
  last_id bigint;
  last_hash bytea;
BEGIN
  -- a snapshot older than the lock would chain to a stale head
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log rows are written in READ COMMITTED transactions only';
  END IF;
  SELECT * INTO head FROM audit_chain_head FOR UPDATE;
  -- a replayed event (spool) that is already there: skipped here, so the chain only moves for rows kept
  IF NEW.event_id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_log WHERE event_id = NEW.event_id) THEN
    RETURN NULL;
  END IF;
  -- rows this statement wrote already are past the head (it moves once per statement, below, so that a
  -- statement writing many rows stays linear); otherwise the head says what the last row was, even when
  -- that row has since been deleted
  SELECT a.id, a.hash INTO last_id, last_hash FROM audit_log a ORDER BY a.id DESC LIMIT 1;
  NEW.id := nextval('audit_log_id_seq');
  NEW.prev_hash := CASE WHEN last_id > head.last_id THEN last_hash ELSE head.hash END;
  NEW.hash := sha256(jumphost_audit_canonical(NEW));
  RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION jumphost_audit_chain();

CREATE FUNCTION jumphost_audit_chain_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_chain_head h SET last_id = m.id, hash = m.hash
  FROM (SELECT id, hash FROM new_rows ORDER BY id DESC LIMIT 1) m
  WHERE m.id > h.last_id;
  RETURN NULL;
END $$;

CREATE TRIGGER audit_log_chain_head AFTER INSERT ON audit_log REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jumphost_audit_chain_head();

-- Signed checkpoints of the chain: `statement` is the exact text signed (UTF-8), `signature` the raw
-- Ed25519 signature by the appliance key whose OpenSSH line is `public_key`.
CREATE TABLE audit_checkpoints (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  node_id     text NOT NULL,
  last_id     bigint NOT NULL,
  last_hash   bytea NOT NULL,
  statement   text NOT NULL,
  public_key  text NOT NULL,
  signature   bytea NOT NULL
);
CREATE INDEX audit_checkpoints_last ON audit_checkpoints (last_id);

-- A recording's seal, made when it closes: the manifest (JSON, the exact bytes signed), its raw Ed25519
-- signature and the same as an SSHSIG text (ssh-keygen -Y verify), and the signing key.
CREATE TABLE recording_seals (
  recording_id  bigint PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
  manifest      text NOT NULL,
  signature     bytea NOT NULL,
  sshsig        text NOT NULL,
  public_key    text NOT NULL,
  sealed_at     timestamptz NOT NULL DEFAULT now()
);
