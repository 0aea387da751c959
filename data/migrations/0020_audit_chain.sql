-- Tamper-evident audit trail (issue 17): each event carries the canonical JSON it
-- was hashed from, the previous event's hash and its own, sha256(prev + content);
-- `python -m auth.audit verify` walks the chain. The actor is a user, an agent
-- token, a share link or the system; `resource` names what was acted on.
-- Retention removes old rows only through a chained checkpoint event, with the
-- session setting insightboard.audit_retention = 'on' (auth/audit.py).

ALTER TABLE audit_events
    ADD COLUMN actor_type TEXT NOT NULL DEFAULT 'user'
        CHECK (actor_type IN ('user', 'agent', 'share', 'system')),
    ADD COLUMN actor_id TEXT,
    ADD COLUMN resource TEXT,
    ADD COLUMN request_id TEXT,
    ADD COLUMN content TEXT,
    ADD COLUMN prev_hash TEXT,
    ADD COLUMN row_hash TEXT;

CREATE INDEX audit_events_action ON audit_events (action, occurred_at);

CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('insightboard.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
