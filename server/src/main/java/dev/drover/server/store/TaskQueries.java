package dev.drover.server.store;

import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.Rows.TaskRow;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;

/**
 * SQL of drover_task, the queue. A row exists while its step is ready or running; it is deleted when
 * the attempt ends for good. The attempt number is the fencing token: every state change of a leased
 * task names the attempt it expects, so a report from an attempt that lost its lease changes nothing.
 */
public final class TaskQueries {
    private static final String RETURNING = """
            RETURNING t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority,
                      t.state, t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id""";

    public void insert(StoreTx tx, List<NewTask> tasks) {
        int n = tasks.size();
        Object[] tenants = new Object[n], runs = new Object[n], steps = new Object[n], wfs = new Object[n],
                versions = new Object[n], actions = new Object[n], prios = new Object[n], maxAttempts = new Object[n],
                costs = new Object[n], timeouts = new Object[n], s2s = new Object[n];
        for (int i = 0; i < n; i++) {
            NewTask t = tasks.get(i);
            tenants[i] = t.tenantId();
            runs[i] = t.runId();
            steps[i] = t.stepName();
            wfs[i] = t.workflowName();
            versions[i] = t.workflowVersion();
            actions[i] = t.action();
            prios[i] = t.priority();
            maxAttempts[i] = t.maxAttempts();
            costs[i] = t.slotCost();
            timeouts[i] = t.executionTimeoutMs();
            s2s[i] = t.scheduleToStartTimeoutMs();
        }
        tx.update("""
                INSERT INTO drover_task (tenant_id, run_id, step_name, workflow_name, workflow_version, action, priority,
                                         state, max_attempts, slot_cost, execution_timeout_ms, schedule_deadline)
                SELECT u.tenant, u.run_id, u.step, u.wf, u.version, u.action, u.prio, 'queued', u.max_attempts, u.cost,
                       u.timeout, CASE WHEN u.s2s > 0 THEN now() + u.s2s * interval '1 millisecond' END
                  FROM unnest(?::text[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[], ?::int[],
                              ?::int[], ?::bigint[], ?::bigint[])
                       AS u(tenant, run_id, step, wf, version, action, prio, max_attempts, cost, timeout, s2s)""",
                ps -> {
                    ps.setArray(1, tx.array("text", tenants));
                    ps.setArray(2, tx.array("uuid", runs));
                    ps.setArray(3, tx.array("text", steps));
                    ps.setArray(4, tx.array("text", wfs));
                    ps.setArray(5, tx.array("text", versions));
                    ps.setArray(6, tx.array("text", actions));
                    ps.setArray(7, tx.array("smallint", prios));
                    ps.setArray(8, tx.array("int", maxAttempts));
                    ps.setArray(9, tx.array("int", costs));
                    ps.setArray(10, tx.array("bigint", timeouts));
                    ps.setArray(11, tx.array("bigint", s2s));
                });
    }

    /**
     * Leases up to {@code limit} ready tasks the worker can run, highest priority then oldest first.
     * SKIP LOCKED lets several dispatchers (and server replicas) claim side by side without waiting.
     */
    public List<TaskRow> claim(StoreTx tx, String tenantId, String[] actions, int limit, UUID workerId, long leaseMs) {
        return tx.query("""
                WITH picked AS (
                    SELECT id FROM drover_task
                     WHERE state = 'queued' AND tenant_id = ? AND action = ANY(?) AND available_at <= now()
                     ORDER BY priority DESC, id
                     LIMIT ? FOR UPDATE SKIP LOCKED)
                UPDATE drover_task t
                   SET state = 'leased', attempt = t.attempt + 1, worker_id = ?,
                       lease_expires_at = now() + ? * interval '1 millisecond',
                       execution_deadline = CASE WHEN t.execution_timeout_ms > 0
                                                 THEN now() + t.execution_timeout_ms * interval '1 millisecond' END
                  FROM picked WHERE t.id = picked.id
                """ + RETURNING,
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("text", actions));
                    ps.setInt(3, limit);
                    ps.setObject(4, workerId);
                    ps.setLong(5, leaseMs);
                }, TaskQueries::row);
    }

    /** Gives back leased tasks that were claimed but never sent (the worker had no room or went away). */
    public void unclaim(StoreTx tx, Long[] ids) {
        tx.update("""
                UPDATE drover_task SET state = 'queued', attempt = attempt - 1, worker_id = NULL, lease_expires_at = NULL,
                       execution_deadline = NULL
                 WHERE id = ANY(?) AND state = 'leased'""",
                ps -> ps.setArray(1, tx.array("bigint", ids)));
    }

    /** Deletes the leased tasks whose current attempt is the one given; returns those deleted (the accepted reports). */
    public List<TaskRow> deleteLeased(StoreTx tx, Long[] ids, Integer[] attempts) {
        return tx.query("""
                DELETE FROM drover_task t USING unnest(?::bigint[], ?::int[]) AS u(id, attempt)
                 WHERE t.id = u.id AND t.attempt = u.attempt AND t.state = 'leased'
                """ + RETURNING,
                ps -> {
                    ps.setArray(1, tx.array("bigint", ids));
                    ps.setArray(2, tx.array("int", attempts));
                }, TaskQueries::row);
    }

    /** Locks the task if {@code attempt} is its current leased attempt. */
    public java.util.Optional<TaskRow> lockLeased(StoreTx tx, long id, int attempt) {
        return tx.query("""
                SELECT t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority, t.state,
                       t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id
                  FROM drover_task t WHERE t.id = ? AND t.attempt = ? AND t.state = 'leased' FOR UPDATE""",
                ps -> {
                    ps.setLong(1, id);
                    ps.setInt(2, attempt);
                }, TaskQueries::row).stream().findFirst();
    }

    /** Back to the queue after a failed attempt, available again after the backoff. */
    public void requeue(StoreTx tx, long id, long delayMs) {
        tx.update("""
                UPDATE drover_task SET state = 'queued', worker_id = NULL, lease_expires_at = NULL, execution_deadline = NULL,
                       available_at = now() + ? * interval '1 millisecond'
                 WHERE id = ?""",
                ps -> {
                    ps.setLong(1, delayMs);
                    ps.setLong(2, id);
                });
    }

    public void delete(StoreTx tx, long id) {
        tx.update("DELETE FROM drover_task WHERE id = ?", ps -> ps.setLong(1, id));
    }

    /** Removes every task of a run; returns them so leased ones can be cancelled on their workers. */
    public List<TaskRow> deleteForRun(StoreTx tx, UUID runId) {
        return tx.query("DELETE FROM drover_task t WHERE t.run_id = ? " + RETURNING, ps -> ps.setObject(1, runId),
                TaskQueries::row);
    }

    /** Leased tasks whose worker stopped heartbeating; locked for the caller to retry or fail them. */
    public List<TaskRow> expiredLeases(StoreTx tx, int limit) {
        return lockWhere("state = 'leased' AND lease_expires_at < now()", limit, tx);
    }

    public List<TaskRow> pastExecutionDeadline(StoreTx tx, int limit) {
        return lockWhere("state = 'leased' AND execution_deadline < now()", limit, tx);
    }

    public List<TaskRow> pastScheduleDeadline(StoreTx tx, int limit) {
        return lockWhere("state = 'queued' AND schedule_deadline < now()", limit, tx);
    }

    private List<TaskRow> lockWhere(String condition, int limit, StoreTx tx) {
        return tx.query("""
                SELECT t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority, t.state,
                       t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id
                  FROM drover_task t WHERE """ + " " + condition + " ORDER BY t.id LIMIT ? FOR UPDATE SKIP LOCKED",
                ps -> ps.setInt(1, limit), TaskQueries::row);
    }

    /** Extends the leases of everything the worker holds; a heartbeat. */
    public int extendLeases(StoreTx tx, UUID workerId, long leaseMs) {
        return tx.update("""
                UPDATE drover_task SET lease_expires_at = now() + ? * interval '1 millisecond'
                 WHERE worker_id = ? AND state = 'leased'""",
                ps -> {
                    ps.setLong(1, leaseMs);
                    ps.setObject(2, workerId);
                });
    }

    /**
     * At server start: leases that ran out while no server was up were not the workers' fault (they
     * could not heartbeat to anyone), so every lease gets one full timeout to be renewed.
     */
    public int graceAllLeases(StoreTx tx, long leaseMs) {
        return tx.update("UPDATE drover_task SET lease_expires_at = now() + ? * interval '1 millisecond' "
                        + "WHERE state = 'leased' AND lease_expires_at < now() + ? * interval '1 millisecond'",
                ps -> {
                    ps.setLong(1, leaseMs);
                    ps.setLong(2, leaseMs);
                });
    }

    /** True when some task is ready now for one of the actions (used to skip idle claims cheaply). */
    public long countQueued(StoreTx tx) {
        return tx.query("SELECT count(*) FROM drover_task WHERE state = 'queued'", ps -> { }, rs -> rs.getLong(1)).get(0);
    }

    private static TaskRow row(ResultSet rs) throws SQLException {
        return new TaskRow(rs.getLong("id"), rs.getString("tenant_id"), Sql.uuid(rs, "run_id"), rs.getString("step_name"),
                rs.getString("workflow_name"), rs.getString("workflow_version"), rs.getInt("priority"),
                rs.getString("state"), rs.getInt("attempt"), rs.getInt("max_attempts"), rs.getInt("slot_cost"),
                rs.getLong("execution_timeout_ms"), Sql.uuid(rs, "worker_id"));
    }
}
