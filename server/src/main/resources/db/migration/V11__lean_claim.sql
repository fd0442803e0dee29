-- A claim writes only the task row (see TaskQueries.claim): the step and run rows are written once,
-- when the attempt ends, and until then reads show a queued step/run with a leased task as running,
-- started at leased_at. Rewriting the step and run rows at every claim cost a third of the claim.
ALTER TABLE drover_task ADD COLUMN leased_at timestamptz;
UPDATE drover_task SET leased_at = now() WHERE state = 'leased';

-- A claim's task update cannot be HOT (the row leaves the ready index), so every index it enters costs
-- an insert. The lease index was one of them; the per-worker index serves the lease queries too
-- (expired leases are looked up through the workers that stopped heartbeating).
DROP INDEX IF EXISTS drover_task_lease;

-- Every run and step row is rewritten at least once after its insert (when its attempt ends), in a
-- batch with its neighbours, whose old versions are not yet dead. With 15% of each page free only
-- one update in six stayed on its page (measured: 15.8k of 95.5k run updates HOT); the rest moved to
-- another page and wrote a new entry into every index. Half a page free lets each row's update stay
-- HOT; pruning then reclaims the old versions. The price is a larger heap for the run history.
ALTER TABLE drover_run SET (fillfactor = 50);
ALTER TABLE drover_step_run SET (fillfactor = 50);
