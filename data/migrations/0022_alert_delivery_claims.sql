-- Deliveries run outside the evaluator lock: a pending notification is claimed
-- (claimed_at) by the process that inserted it, and a stale claim (its sender
-- died) is taken over by exactly one process (UPDATE ... SKIP LOCKED).
ALTER TABLE alert_notifications
    ADD COLUMN claimed_at TIMESTAMPTZ NOT NULL DEFAULT now();
