-- Events: stored durably, in the same transaction as the runs they start.
CREATE TABLE drover_event (
    id               uuid        PRIMARY KEY,          -- UUIDv7 (often client-chosen): id order = creation order
    tenant_id        text        NOT NULL DEFAULT 'default',
    name             text        NOT NULL,
    payload          jsonb       NOT NULL,
    metadata         jsonb       NOT NULL DEFAULT '{}',
    idempotency_key  text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX drover_event_idempotency ON drover_event (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX drover_event_by_tenant ON drover_event (tenant_id, id DESC);
CREATE INDEX drover_event_by_name ON drover_event (tenant_id, name, id DESC);

-- The runs an event started (replays included). Partial: runs not started by an event cost nothing.
CREATE INDEX drover_run_by_event ON drover_run (event_id) WHERE event_id IS NOT NULL;

-- Who listens to what: derived from the latest registered version of each workflow, rewritten in the
-- transaction that registers it, and read by every push. A table rather than a per-process cache, so
-- that a workflow registered through one server replica is heard by a push on any other at once.
CREATE TABLE drover_event_listener (
    tenant_id        text NOT NULL,
    workflow_name    text NOT NULL,
    position         int  NOT NULL,                    -- order within the definition
    workflow_version text NOT NULL,
    pattern          text NOT NULL,                    -- exact name, "prefix.*" or "*"
    filter           text,                             -- CEL over payload and metadata; null = none
    PRIMARY KEY (tenant_id, workflow_name, position)
);
