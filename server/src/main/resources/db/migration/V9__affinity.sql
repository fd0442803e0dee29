-- Worker affinity, sticky runs, and pausing/draining workers.
--
-- A task carries what restricts or steers who may claim it, copied from its step definition when the
-- task is written, so the claim reads one row and never the definition:
--   required_labels   {"gpu": "true"}: only a worker whose labels contain all of these may claim it.
--   preferred_labels  [{"key": "region", "value": "eu", "weight": 10}, ...]: a worker scores the sum of the
--                     weights its labels match. The best-scoring available worker may claim at once; one
--                     that scores less only after the task has waited a share of the preference window
--                     (see drover_may_claim).
--   sticky            'soft' | 'hard' (from the workflow); sticky_worker: the worker that claimed the run's
--                     first step (copied from drover_run.sticky_worker when the task is written).
-- All NULL for the common task: the claim then skips the function call entirely.
ALTER TABLE drover_task ADD COLUMN required_labels  jsonb;
ALTER TABLE drover_task ADD COLUMN preferred_labels jsonb;
ALTER TABLE drover_task ADD COLUMN sticky           text CHECK (sticky IN ('soft', 'hard'));
ALTER TABLE drover_task ADD COLUMN sticky_worker    uuid;

-- Set once, by the claim of the run's first step (runs of sticky workflows only). Not indexed: it must not
-- cost the HOT updates of drover_run.
ALTER TABLE drover_run ADD COLUMN sticky_worker uuid;

-- 'paused': no new work, in-flight attempts finish. 'draining': the same, reported as drained once nothing
-- is leased to it any more. Kept across re-registrations of the same worker id, so the state survives the
-- worker reconnecting to another replica; every replica's claim reads it.
ALTER TABLE drover_worker ADD COLUMN state text NOT NULL DEFAULT 'active'
    CHECK (state IN ('active', 'paused', 'draining'));

-- Sum of the weights of the preferences the labels match. PL/pgSQL with index loops on purpose: every
-- statement in it is a "simple expression" evaluated without the executor, so a call costs microseconds
-- (it runs once per candidate row of a claim; a SQL-language version called from PL/pgSQL is a full query).
CREATE FUNCTION drover_label_score(preferred jsonb, labels jsonb) RETURNS int
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    score int := 0;
    p jsonb;
BEGIN
    FOR i IN 0 .. jsonb_array_length(preferred) - 1 LOOP
        p := preferred -> i;
        IF labels ->> (p ->> 'key') = p ->> 'value' THEN
            score := score + (p ->> 'weight')::int;
        END IF;
    END LOOP;
    RETURN score;
END
$$;

-- May the worker (id, labels) claim the task now? Called by the claim only for tasks with affinity.
--   live: {"<worker id>": <labels>, ...} of the workers that are active (not paused or draining), heartbeating
--         within the lease timeout and registered for the task's action; live_labels: the same labels as an
--         array. Both computed once per claim statement.
--   preference_ms: how long a task waits for a better worker than this one, at most (scaled by how much
--         better the best live worker scores); soft_sticky_ms: how long a soft-sticky task waits for its worker.
-- Pull-based dispatch has no global view of all workers' free slots, so preferences are a head start in time:
-- a better worker that is busy only delays the task by the window, never indefinitely.
CREATE FUNCTION drover_may_claim(t drover_task, worker uuid, labels jsonb, live jsonb, live_labels jsonb,
                                 preference_ms bigint, soft_sticky_ms bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    waited_ms double precision := extract(epoch FROM now() - t.available_at) * 1000;
    mine int;
    best int := 0;
    other jsonb;
BEGIN
    IF t.required_labels IS NOT NULL AND NOT (labels @> t.required_labels) THEN
        RETURN false;
    END IF;
    IF t.sticky_worker IS NOT NULL THEN
        IF t.sticky_worker = worker THEN
            RETURN true;
        END IF;
        IF t.sticky = 'hard' THEN
            RETURN false;
        END IF;
        -- Soft: the run's worker gets a head start while it is available (and able to run the step).
        IF waited_ms < soft_sticky_ms AND live ? t.sticky_worker::text
           AND (t.required_labels IS NULL OR (live -> t.sticky_worker::text) @> t.required_labels) THEN
            RETURN false;
        END IF;
    END IF;
    IF t.preferred_labels IS NOT NULL AND waited_ms < preference_ms THEN
        mine := drover_label_score(t.preferred_labels, labels);
        FOR i IN 0 .. jsonb_array_length(live_labels) - 1 LOOP
            other := live_labels -> i;
            IF t.required_labels IS NULL OR other @> t.required_labels THEN
                best := greatest(best, drover_label_score(t.preferred_labels, other));
            END IF;
        END LOOP;
        IF best > mine AND waited_ms < preference_ms * (best - mine)::double precision / best THEN
            RETURN false;
        END IF;
    END IF;
    RETURN true;
END
$$;
