-- Concurrency groups. A group key (one per group and key value, e.g. "order|0|customer-42") counts the
-- runs (workflow-level group) or step attempts (step-level group) holding it; members beyond the
-- group's max_running wait here, holding no worker slot, until a holder finishes.
CREATE TABLE drover_gate_key (
    tenant_id text NOT NULL,
    gkey      text NOT NULL,
    running   int  NOT NULL DEFAULT 0 CHECK (running >= 0),
    PRIMARY KEY (tenant_id, gkey)
);

-- One row per (run or step, group key): waiting for room, or holding it while running.
CREATE TABLE drover_gate_member (
    tenant_id   text   NOT NULL,
    gkey        text   NOT NULL,
    run_id      uuid   NOT NULL,
    step_name   text   NOT NULL,            -- '' for a workflow-level group
    state       text   NOT NULL CHECK (state IN ('waiting', 'running')),
    max_running int    NOT NULL CHECK (max_running >= 1),
    strategy    text   NOT NULL,
    rank        bigint NOT NULL,            -- arrival (ms since the epoch, database clock): FIFO within a key
    PRIMARY KEY (run_id, step_name, gkey)
);
CREATE INDEX drover_gate_member_order ON drover_gate_member (tenant_id, gkey, state, rank);
