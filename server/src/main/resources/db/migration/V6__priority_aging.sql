-- Priorities with aging. A task's place in the queue is its rank: the instant it became ready, moved
-- earlier by 30 s per priority level (1 = low ... 4 = high; 0 means the default, 2). A priority-4 task
-- goes before priority-1 tasks that became ready up to 90 s before it, and no longer: low priority work
-- is delayed under a flood of high priority work, never starved. Within a priority, older goes first.
ALTER TABLE drover_task ADD COLUMN rank bigint NOT NULL DEFAULT 0;
UPDATE drover_task SET rank = (extract(epoch FROM created_at) * 1000)::bigint
                              - 30000 * (CASE WHEN priority = 0 THEN 2 ELSE priority END);
DROP INDEX drover_task_ready;
CREATE INDEX drover_task_ready ON drover_task (tenant_id, action, rank, id) WHERE state = 'queued';
