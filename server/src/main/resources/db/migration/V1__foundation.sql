-- Drover schema, version 1.
--
-- Hot and cold are separate on purpose:
--   drover_task       is the queue: one row per step that is ready to run or running. It stays small
--                     (rows are deleted when the attempt ends), so claims scan a tiny partial index.
--   drover_run,
--   drover_step_run,
--   drover_step_attempt  are history: written once or twice per step and read by people and tools.
--                     They are pruned by time in small batches (index on finished_at), never locked long.
-- No foreign keys between the hot table and history: every insert would pay an index probe, and the
-- engine writes both sides in one transaction anyway. tenant_id is carried everywhere from day one.

CREATE TABLE drover_workflow (
    tenant_id   text        NOT NULL DEFAULT 'default',
    name        text        NOT NULL,
    version     text        NOT NULL,
    -- The protocol's WorkflowDefinition message, binary-encoded: the .proto file is the schema.
    definition  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name, version)
);
CREATE INDEX drover_workflow_latest ON drover_workflow (tenant_id, name, created_at DESC);

CREATE TABLE drover_run (
    id               uuid        PRIMARY KEY,          -- UUIDv7: time-ordered, so id order = creation order
    tenant_id        text        NOT NULL DEFAULT 'default',
    workflow_name    text        NOT NULL,
    workflow_version text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input            jsonb       NOT NULL,
    output           jsonb,
    error            text,
    metadata         jsonb       NOT NULL DEFAULT '{}',
    priority         smallint    NOT NULL DEFAULT 0,
    idempotency_key  text,
    -- Steps not yet in a final state; the run is finished exactly when this reaches 0.
    pending_steps    int         NOT NULL CHECK (pending_steps >= 0),
    -- Reserved for later issues: child runs, event triggers, concurrency groups.
    parent_run_id    uuid,
    parent_step      text,
    child_index      int,
    event_id         uuid,
    concurrency_key  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE UNIQUE INDEX drover_run_idempotency ON drover_run (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX drover_run_by_workflow ON drover_run (tenant_id, workflow_name, id DESC);
CREATE INDEX drover_run_finished ON drover_run (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX drover_run_unfinished ON drover_run (status) WHERE finished_at IS NULL;

CREATE TABLE drover_step_run (
    run_id          uuid        NOT NULL,
    step_name       text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- Parents not yet succeeded; the step becomes queued when this reaches 0.
    pending_parents int         NOT NULL CHECK (pending_parents >= 0),
    attempts        int         NOT NULL DEFAULT 0,
    output          jsonb,
    error           text,
    worker_id       uuid,
    started_at      timestamptz,
    finished_at     timestamptz,
    PRIMARY KEY (run_id, step_name)
);

-- One row per attempt that did not succeed (the step row holds the successful one), so that every
-- failure stays visible with its error and stack trace without doubling the writes of the happy path.
CREATE TABLE drover_step_attempt (
    run_id      uuid        NOT NULL,
    step_name   text        NOT NULL,
    attempt     int         NOT NULL,
    status      text        NOT NULL CHECK (status IN ('failed', 'timed_out', 'cancelled', 'lost')),
    error       text,
    error_type  text,
    stack_trace text,
    worker_id   uuid,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_name, attempt)
);

CREATE TABLE drover_task (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id            text        NOT NULL DEFAULT 'default',
    run_id               uuid        NOT NULL,
    step_name            text        NOT NULL,
    workflow_name        text        NOT NULL,
    workflow_version     text        NOT NULL,
    -- What a worker must be able to run: "<workflow>/<step>".
    action               text        NOT NULL,
    priority             smallint    NOT NULL DEFAULT 0,
    state                text        NOT NULL CHECK (state IN ('queued', 'leased')),
    -- Attempts started so far; while leased, the number of the current attempt (the fencing token).
    attempt              int         NOT NULL DEFAULT 0,
    max_attempts         int         NOT NULL CHECK (max_attempts >= 1),
    slot_cost            int         NOT NULL DEFAULT 1,
    execution_timeout_ms bigint      NOT NULL DEFAULT 0,
    available_at         timestamptz NOT NULL DEFAULT now(),
    schedule_deadline    timestamptz,
    worker_id            uuid,
    lease_expires_at     timestamptz,
    execution_deadline   timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'leased') = (worker_id IS NOT NULL AND lease_expires_at IS NOT NULL)),
    UNIQUE (run_id, step_name)
);
CREATE INDEX drover_task_ready ON drover_task (tenant_id, action, priority DESC, id) WHERE state = 'queued';
CREATE INDEX drover_task_lease ON drover_task (lease_expires_at) WHERE state = 'leased';
CREATE INDEX drover_task_deadline ON drover_task (execution_deadline) WHERE state = 'leased' AND execution_deadline IS NOT NULL;
CREATE INDEX drover_task_schedule_deadline ON drover_task (schedule_deadline) WHERE state = 'queued' AND schedule_deadline IS NOT NULL;
CREATE INDEX drover_task_worker ON drover_task (worker_id) WHERE state = 'leased';
ALTER TABLE drover_task SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);

CREATE TABLE drover_worker (
    id                uuid        PRIMARY KEY,
    tenant_id         text        NOT NULL DEFAULT 'default',
    name              text        NOT NULL,
    slots             int         NOT NULL,
    labels            jsonb       NOT NULL DEFAULT '{}',
    actions           text[]      NOT NULL,
    sdk               text,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now()
);
