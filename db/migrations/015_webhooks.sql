-- Outbound webhooks: endpoints an admin registers for audit events (by action or prefix, e.g. session.kill,
-- rdp.cert_mismatch, system.), and a durable outbox of deliveries filled by a trigger on audit_log, so no
-- event is missed whichever process wrote it; any node's serve delivers (claimed with SKIP LOCKED).
CREATE TABLE webhooks (
  id             bigserial PRIMARY KEY,
  url            text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  -- the HMAC secret, sealed with the appliance secret (core/secret_box.ts, purpose webhook:<id>)
  secret_sealed  text NOT NULL,
  -- audit actions ("session.kill") or prefixes ending in a dot ("system.")
  events         text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 50),
  active         boolean NOT NULL DEFAULT true,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id              bigserial PRIMARY KEY,
  webhook_id      bigint NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  audit_id        bigint,
  event           text NOT NULL,
  payload         jsonb NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  -- given up after the last attempt
  failed_at       timestamptz,
  last_status     integer,
  last_error      text,
  last_ms         integer,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);

-- Every audit row whose action a live webhook subscribes to becomes a delivery, in the same transaction.
-- A burst of denials is an event of its own: the 10th access denial from one source address within 5
-- minutes enqueues security.denial_burst (once per burst: the 11th does not).
CREATE FUNCTION webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  IF NOT NEW.success AND NEW.source_ip IS NOT NULL AND NEW.action LIKE '%.access_denied'
     AND EXISTS (SELECT 1 FROM webhooks w WHERE w.active AND w.events && ARRAY['security.denial_burst', 'security.'])
  THEN
    SELECT count(*) INTO n FROM audit_log
    WHERE NOT success AND source_ip = NEW.source_ip AND action LIKE '%.access_denied'
      AND at > NEW.at - interval '5 minutes' AND at <= NEW.at;
    IF n = 10 THEN
      INSERT INTO webhook_deliveries (webhook_id, audit_id, event, payload)
      SELECT w.id, NEW.id, 'security.denial_burst',
             jsonb_build_object('action', 'security.denial_burst', 'source_ip', host(NEW.source_ip), 'success', false,
                                'details', jsonb_build_object('denials', n, 'window', '5 minutes',
                                                              'last_action', NEW.action, 'last_target', NEW.target),
                                'at', NEW.at, 'node', NEW.node_id)
      FROM webhooks w WHERE w.active AND w.events && ARRAY['security.denial_burst', 'security.'];
    END IF;
  END IF;
  INSERT INTO webhook_deliveries (webhook_id, audit_id, event, payload)
  SELECT w.id, NEW.id, NEW.action,
         jsonb_build_object('id', NEW.id, 'action', NEW.action, 'actor', NEW.actor, 'target', NEW.target,
                            'source_ip', host(NEW.source_ip), 'success', NEW.success, 'details', NEW.details,
                            'at', NEW.at, 'node', NEW.node_id)
  FROM webhooks w
  WHERE w.active AND EXISTS (
    SELECT 1 FROM unnest(w.events) e
    WHERE e = NEW.action OR (right(e, 1) = '.' AND starts_with(NEW.action, e)));
  RETURN NULL;
END $$;
CREATE TRIGGER audit_log_webhooks AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION webhook_enqueue();
