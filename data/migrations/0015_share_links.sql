-- Share links (issue 15): read-only bearer links to one view of one dataset.
-- The token carries 256 random bits and only its SHA-256 is stored; the row binds
-- it to its owner, the dataset, the page and the query with its locked values.
CREATE TABLE share_links (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL CHECK (length(dataset_id) BETWEEN 1 AND 64),
    page TEXT NOT NULL CHECK (page IN ('analysis', 'kpi')),
    -- The canonical query ({key: [values]}) and the locked part of it.
    query JSONB NOT NULL,
    locked JSONB NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    revoked_reason TEXT CHECK (revoked_reason IN ('owner', 'dataset_deleted')),
    last_used_at TIMESTAMPTZ,
    view_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX share_links_owner ON share_links (owner_id, created_at);
CREATE INDEX share_links_dataset ON share_links (dataset_id) WHERE revoked_at IS NULL;

-- One row per opened share page: which link, when, from where, with what.
CREATE TABLE share_views (
    id BIGSERIAL PRIMARY KEY,
    link_id UUID NOT NULL REFERENCES share_links (id) ON DELETE CASCADE,
    viewed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX share_views_link ON share_views (link_id, viewed_at);
