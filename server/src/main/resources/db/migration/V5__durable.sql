-- Durable workflows: waits that hold no worker slot, skipped steps, on-failure steps, child runs, replay.

ALTER TABLE drover_step_run DROP CONSTRAINT drover_step_run_status_check;
ALTER TABLE drover_step_run ADD CONSTRAINT drover_step_run_status_check
    CHECK (status IN ('pending', 'queued', 'waiting', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'));
-- What the server hands a step besides its input and parents' outputs: the event a wait received, or
-- the failure an on-failure step handles. Null for ordinary steps.
ALTER TABLE drover_step_run ADD COLUMN context jsonb;

-- Times the run was replayed; child runs spawned after a replay are new children, not the old ones.
ALTER TABLE drover_run ADD COLUMN replays int NOT NULL DEFAULT 0;
-- Cancelling or failing a parent finds its children by this index.
CREATE INDEX drover_run_children ON drover_run (parent_run_id) WHERE parent_run_id IS NOT NULL;

-- A step waiting durably, between "parents done" and "queued for a worker". It holds no slot: the
-- row is all there is, so the wait survives any restart. Deleted when the wait ends.
CREATE TABLE drover_wait (
    run_id      uuid        NOT NULL,
    step_name   text        NOT NULL,
    tenant_id   text        NOT NULL DEFAULT 'default',
    -- End of the sleep; for an event wait, events count only from this instant on.
    wake_at     timestamptz NOT NULL,
    -- Null for a pure sleep.
    event_name  text,
    match       text,
    timeout_at  timestamptz,
    on_timeout  text        NOT NULL DEFAULT 'fail' CHECK (on_timeout IN ('fail', 'continue')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_name)
);
CREATE INDEX drover_wait_sleep ON drover_wait (wake_at) WHERE event_name IS NULL;
CREATE INDEX drover_wait_timeout ON drover_wait (timeout_at) WHERE timeout_at IS NOT NULL;
CREATE INDEX drover_wait_event ON drover_wait (tenant_id, event_name) WHERE event_name IS NOT NULL;
