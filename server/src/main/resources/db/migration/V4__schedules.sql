-- Cron and one-time schedules.
--
-- Every due decision compares with the database clock (now()), and a tick is recorded in the same
-- transaction as the run it starts (which also carries the unique idempotency key
-- 'cron:<id>:<tick ms>' or 'schedule:<id>'), so a tick fires once whatever the number of replicas.

CREATE TABLE drover_cron (
    id            uuid        PRIMARY KEY,
    tenant_id     text        NOT NULL DEFAULT 'default',
    workflow_name text        NOT NULL,
    name          text        NOT NULL,
    expression    text        NOT NULL,
    time_zone     text        NOT NULL,
    input         jsonb       NOT NULL,
    metadata      jsonb       NOT NULL DEFAULT '{}',
    missed_ticks  text        NOT NULL CHECK (missed_ticks IN ('fire_once', 'skip')),
    -- 'workflow': declared by the workflow definition and kept in step with it at each registration;
    -- 'api': created at run time, never touched by a registration.
    source        text        NOT NULL CHECK (source IN ('api', 'workflow')),
    paused        boolean     NOT NULL DEFAULT false,
    -- The tick to fire next; null while paused (or when the expression cannot fire any more).
    next_fire_at  timestamptz,
    last_tick_at  timestamptz,
    last_run_id   uuid,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, workflow_name, name)
);
CREATE INDEX drover_cron_due ON drover_cron (next_fire_at) WHERE next_fire_at IS NOT NULL;

CREATE TABLE drover_schedule (
    id            uuid        PRIMARY KEY,
    tenant_id     text        NOT NULL DEFAULT 'default',
    workflow_name text        NOT NULL,
    input         jsonb       NOT NULL,
    metadata      jsonb       NOT NULL DEFAULT '{}',
    fire_at       timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('scheduled', 'fired', 'cancelled', 'failed')),
    run_id        uuid,
    fired_at      timestamptz,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drover_schedule_due ON drover_schedule (fire_at) WHERE status = 'scheduled';
CREATE INDEX drover_schedule_by_workflow ON drover_schedule (tenant_id, workflow_name, fire_at);
CREATE INDEX drover_schedule_done ON drover_schedule (updated_at) WHERE status <> 'scheduled';
