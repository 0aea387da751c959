-- Agent tokens (issue 17): bearer credentials for AI agents that read aggregates
-- only. Like personal API tokens they are shown once and stored as SHA-256; each
-- is bound to one user and names its datasets, optionally its measures and
-- dimensions (NULL: all of the datasets'), the longest time window it may read
-- and a required expiry. The request guard holds every call to this scope.
CREATE TABLE agent_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    token_hash BYTEA NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    datasets TEXT[] NOT NULL CHECK (cardinality(datasets) BETWEEN 1 AND 20),
    measures TEXT[],
    dimensions TEXT[],
    max_window_days INTEGER NOT NULL CHECK (max_window_days BETWEEN 1 AND 366),
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX agent_tokens_user ON agent_tokens (user_id, created_at);
