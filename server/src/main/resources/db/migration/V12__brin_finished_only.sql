-- The BRIN index on drover_run.finished_at (V10) also answers "finished_at IS NULL", and the planner
-- took it for the batched completion update (UPDATE drover_run ... FROM unnest(ids) WHERE r.id = u.id
-- AND r.finished_at IS NULL): with statistics that lag a fast-growing table it estimated a few dozen
-- unfinished runs, read them through the lossy BRIN bitmap (1,300 heap pages, 29,000 rows rechecked)
-- and hash-joined, instead of 265 primary-key probes: 43 ms per call instead of ~3, under a steady
-- trigger load (seen with auto_explain). Only retention reads this index, always with a cutoff
-- ("finished_at < ..."), which implies NOT NULL, so the index now covers finished runs only and can
-- no longer be chosen for unfinished ones. It stays a summarizing index: on PostgreSQL 16+ setting
-- finished_at still allows a HOT update.
DROP INDEX IF EXISTS drover_run_finished;
CREATE INDEX drover_run_finished ON drover_run USING brin (finished_at) WITH (pages_per_range = 32)
    WHERE finished_at IS NOT NULL;
