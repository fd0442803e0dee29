-- Every run is updated twice on the hot path (queued → running at claim, → succeeded at completion).
-- With a B-tree on status or finished_at each update is a non-HOT update: a new entry in every index
-- of drover_run (primary key, by-workflow, ...) and more to vacuum. No query needs those two B-trees:
--  * drover_run_unfinished (status WHERE finished_at IS NULL) served no query (lists filter by tenant
--    and workflow through drover_run_by_workflow, which holds the id order they page by);
--  * retention only needs "finished before the cutoff", which a BRIN index answers: runs finish in
--    roughly the order they were created (the physical order), and since PostgreSQL 16 an update
--    that changes only BRIN-indexed columns can still be HOT.
DROP INDEX IF EXISTS drover_run_unfinished;
DROP INDEX IF EXISTS drover_run_finished;
CREATE INDEX drover_run_finished ON drover_run USING brin (finished_at) WITH (pages_per_range = 32);
