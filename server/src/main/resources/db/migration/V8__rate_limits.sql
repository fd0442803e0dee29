-- Rate limits: a named capacity per fixed window, shared by every server replica.
CREATE TABLE drover_rate_limit (
    tenant_id  text        NOT NULL,
    name       text        NOT NULL,
    capacity   int         NOT NULL CHECK (capacity >= 1),
    window_ms  bigint      NOT NULL CHECK (window_ms >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- One bucket per limit and key ('' = the limit's global bucket): the units used in the window that
-- starts at window_start (ms since the epoch, database clock, a multiple of window_ms). A bucket whose
-- window has passed counts as empty; it is rewritten, not added to, when the next units are taken, so
-- a key costs one row however long it lives. The claim transaction locks the rows it draws from (in
-- key order), which is what keeps the limit exact across replicas.
CREATE TABLE drover_rate_bucket (
    tenant_id    text        NOT NULL,
    limit_name   text        NOT NULL,
    bkey         text        NOT NULL,
    window_start bigint      NOT NULL DEFAULT 0,
    window_ms    bigint      NOT NULL DEFAULT 0,
    used         int         NOT NULL DEFAULT 0,
    -- "The upstream answered 429": nothing is drawn from this key before then.
    paused_until timestamptz,
    pause_reason text,
    PRIMARY KEY (tenant_id, limit_name, bkey)
);
-- No index on used or window_start: a bucket is rewritten on every acquisition, and with only the
-- primary key indexed those rewrites stay HOT (listing the busiest keys scans one limit's rows instead).
-- Buckets of past windows that are not paused are pruned by the maintenance timer.
ALTER TABLE drover_rate_bucket SET (fillfactor = 70);

-- The limit that last held a task back in the queue, so that raising or changing that limit (or
-- lifting a pause) can make its held tasks available at once instead of at the end of their wait.
-- Written only when a task is held back; never read on the claim path.
ALTER TABLE drover_task ADD COLUMN rate_limited_by text;
