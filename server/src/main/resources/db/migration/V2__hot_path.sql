-- Nothing reads runs by status through an index yet, and an index on a column that changes on every
-- run (status) forbids HOT updates of drover_run: every queued → running → finished change would write
-- a new entry into every index. Listing by status scans the id-ordered primary key instead.
DROP INDEX IF EXISTS drover_run_unfinished;

-- Room on each page for HOT updates of the rows a run rewrites while it progresses.
ALTER TABLE drover_run SET (fillfactor = 85);
ALTER TABLE drover_step_run SET (fillfactor = 85);
