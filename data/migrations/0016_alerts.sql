-- Alerts (issue 16): rules with their evaluation state, an append-only state
-- history, notifications keyed for idempotency, and silences.

CREATE TABLE alert_rules (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL,
    definition JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN
        ('ok', 'pending', 'firing', 'recovering', 'nodata', 'error')),
    state_since TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The engine's counters and the last bucket evaluated (data/alerts/engine.py).
    state_detail JSONB NOT NULL DEFAULT '{}',
    -- Bumped by every evaluation: two evaluators racing cannot both commit.
    state_version INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    acknowledged_at TIMESTAMPTZ,
    silenced_until TIMESTAMPTZ
);
CREATE INDEX alert_rules_user ON alert_rules (user_id, created_at);
CREATE INDEX alert_rules_dataset ON alert_rules (dataset_id);

CREATE TABLE alert_history (
    id BIGSERIAL PRIMARY KEY,
    rule_id UUID NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    bucket TIMESTAMPTZ,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    value DOUBLE PRECISION,
    reason TEXT NOT NULL DEFAULT '',
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alert_history_rule ON alert_history (rule_id, id);

-- Append-only: rows are never changed (deleting a rule removes its history).
CREATE FUNCTION alert_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'alert_history is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER alert_history_no_update BEFORE UPDATE ON alert_history
    FOR EACH ROW EXECUTE FUNCTION alert_history_append_only();

-- One row per (rule, event, bucket, channel): the idempotency key. Whoever
-- inserts it delivers; a second evaluator's insert does nothing.
CREATE TABLE alert_notifications (
    id BIGSERIAL PRIMARY KEY,
    rule_id UUID NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    channel INTEGER NOT NULL,
    channel_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'delivered', 'muted', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    UNIQUE (rule_id, event, bucket, channel)
);
