-- Reports (issue 18): PDF/HTML renderings of one analysis or KPI view, generated
-- in the background and stored in the object store under a key the server chose.
CREATE TABLE report_schedules (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL CHECK (length(dataset_id) BETWEEN 1 AND 64),
    version INTEGER CHECK (version >= 1),
    page TEXT NOT NULL CHECK (page IN ('analysis', 'kpi')),
    params JSONB NOT NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    -- ISO weekday (1 = Monday) of weekly schedules; NULL for daily ones.
    weekday INTEGER CHECK (weekday BETWEEN 1 AND 7),
    time_of_day TIME NOT NULL,
    timezone TEXT NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('view', 'previous_day', 'previous_week')),
    recipients TEXT[] NOT NULL,
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    last_report_id UUID,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX report_schedules_owner ON report_schedules (owner_id, created_at);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at);

CREATE TABLE reports (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL CHECK (length(dataset_id) BETWEEN 1 AND 64),
    version INTEGER CHECK (version >= 1),
    page TEXT NOT NULL CHECK (page IN ('analysis', 'kpi')),
    params JSONB NOT NULL,
    formats TEXT[] NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error TEXT,
    -- {"pdf": {"key": ..., "size": ...}, "html": {...}}: keys the server chose.
    files JSONB NOT NULL DEFAULT '{}'::jsonb,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    title TEXT,
    generation_ms INTEGER,
    schedule_id UUID REFERENCES report_schedules (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX reports_owner ON reports (owner_id, created_at);
CREATE INDEX reports_dataset ON reports (dataset_id);
