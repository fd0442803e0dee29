package dev.drover.server.store;

import dev.drover.server.store.Rows.AttemptRow;
import dev.drover.server.store.Rows.NewStepRun;
import dev.drover.server.store.Rows.RunKey;
import dev.drover.server.store.Rows.StepRunRow;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** SQL of drover_step_run (one row per step of a run) and drover_step_attempt (attempts that did not succeed). */
public final class StepRunQueries {

    /** Inserts step rows from arrays; {@link RunQueries#insertWithSteps} appends a WHERE to it. */
    static final String INSERT = """
            INSERT INTO drover_step_run (run_id, step_name, status, pending_parents, attempts, worker_id, started_at)
            SELECT u.run_id, u.step, u.status, u.pending, CASE WHEN u.worker IS NULL THEN 0 ELSE 1 END, u.worker,
                   CASE WHEN u.worker IS NOT NULL THEN now() END
              FROM unnest(?::uuid[], ?::text[], ?::text[], ?::int[], ?::uuid[]) AS u(run_id, step, status, pending, worker)""";

    public void insert(StoreTx tx, List<NewStepRun> steps) {
        tx.update(INSERT, ps -> bindInsert(tx, ps, 1, steps));
    }

    /** Binds {@link #INSERT}'s arrays from parameter {@code at}; returns the next parameter's index. */
    static int bindInsert(StoreTx tx, java.sql.PreparedStatement ps, int at, List<NewStepRun> steps) throws java.sql.SQLException {
        int n = steps.size();
        Object[] runs = new Object[n], names = new Object[n], statuses = new Object[n], pending = new Object[n],
                workers = new Object[n];
        for (int i = 0; i < n; i++) {
            NewStepRun s = steps.get(i);
            runs[i] = s.runId();
            names[i] = s.stepName();
            statuses[i] = s.status();
            pending[i] = s.pendingParents();
            workers[i] = s.workerId();
        }
        ps.setArray(at++, tx.array("uuid", runs));
        ps.setArray(at++, tx.array("text", names));
        ps.setArray(at++, tx.array("text", statuses));
        ps.setArray(at++, tx.array("int", pending));
        ps.setArray(at++, tx.array("uuid", workers));
        return at;
    }

    public void markRunning(StoreTx tx, UUID[] runIds, String[] steps, Integer[] attempts, UUID[] workerIds) {
        tx.update("""
                UPDATE drover_step_run s SET status = 'running', attempts = u.attempt, worker_id = u.worker,
                       started_at = now(), error = NULL
                  FROM unnest(?::uuid[], ?::text[], ?::int[], ?::uuid[]) AS u(run_id, step, attempt, worker)
                 WHERE s.run_id = u.run_id AND s.step_name = u.step""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                    ps.setArray(3, tx.array("int", attempts));
                    ps.setArray(4, tx.array("uuid", workerIds));
                });
    }

    /** See {@link #markSucceeded}; a constant so that a test can check its plan (KeyedPlansTest). */
    static final String MARK_SUCCEEDED = """
                UPDATE drover_step_run s SET status = 'succeeded', output = u.output::jsonb, finished_at = now(), error = NULL,
                       attempts = coalesce(u.attempt, s.attempts), worker_id = coalesce(u.worker, s.worker_id),
                       started_at = CASE WHEN u.started > 0 THEN to_timestamp(u.started / 1000.0) ELSE s.started_at END
                  FROM unnest(?::uuid[], ?::text[], ?::text[], ?::int[], ?::uuid[], ?::bigint[])
                       AS u(run_id, step, output, attempt, worker, started)
                 WHERE s.run_id = u.run_id AND s.step_name = u.step""";

    /**
     * The attempt that succeeded is written here, once: the claim left the step row alone (while its
     * task is leased, reads show it running from the task), so its attempt, worker and start come from
     * the task ({@code startedMs} 0: keep what the row has).
     */
    public void markSucceeded(StoreTx tx, UUID[] runIds, String[] steps, String[] outputs, Integer[] attempts,
                              UUID[] workers, Long[] startedMs) {
        tx.update(MARK_SUCCEEDED,
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                    ps.setArray(3, tx.array("text", outputs));
                    ps.setArray(4, tx.array("int", attempts));
                    ps.setArray(5, tx.array("uuid", workers));
                    ps.setArray(6, tx.array("bigint", startedMs));
                });
    }

    /** See {@link #countSucceededParents}; a constant so that a test can check its plan. */
    static final String COUNT_SUCCEEDED_PARENTS = """
                UPDATE drover_step_run s
                   SET pending_parents = s.pending_parents - u.n,
                       status = CASE WHEN s.pending_parents - u.n = 0 THEN 'queued' ELSE s.status END
                  FROM unnest(?::uuid[], ?::text[], ?::int[]) AS u(run_id, step, n)
                 WHERE s.run_id = u.run_id AND s.step_name = u.step AND s.status = 'pending'
                RETURNING s.run_id, s.step_name, s.pending_parents, s.attempts""";

    /**
     * Counts succeeded parents against pending children; children whose count reaches zero turn
     * from pending to queued and are returned (the caller enqueues their tasks).
     */
    public List<Rows.ReadyStep> countSucceededParents(StoreTx tx, UUID[] runIds, String[] steps, int[] succeeded) {
        Object[] n = new Object[succeeded.length];
        for (int i = 0; i < n.length; i++) n[i] = succeeded[i];
        return tx.query(COUNT_SUCCEEDED_PARENTS,
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                    ps.setArray(3, tx.array("int", n));
                },
                rs -> rs.getInt(3) == 0 ? new Rows.ReadyStep(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(4)) : null)
                .stream().filter(java.util.Objects::nonNull).toList();
    }

    /** After a failed attempt that will be retried: back to queued, with the error (and that attempt) visible. */
    public void markRetrying(StoreTx tx, Rows.TaskRow t, String error) {
        endAttempt(tx, t, "queued", error);
    }

    /** The step's last attempt failed for good. */
    public void markFailed(StoreTx tx, Rows.TaskRow t, String error) {
        endAttempt(tx, t, "failed", error);
    }

    /** Records an attempt that ended badly: the claim left the row alone, so attempt, worker and start come from the task. */
    private void endAttempt(StoreTx tx, Rows.TaskRow t, String status, String error) {
        tx.update("""
                UPDATE drover_step_run SET status = ?, error = ?, attempts = ?, worker_id = ?,
                       started_at = coalesce(to_timestamp(? / 1000.0), started_at),
                       finished_at = CASE WHEN ? = 'failed' THEN now() ELSE finished_at END
                 WHERE run_id = ? AND step_name = ?""",
                ps -> {
                    ps.setString(1, status);
                    ps.setString(2, error);
                    ps.setInt(3, t.attempt());
                    ps.setObject(4, t.workerId());
                    ps.setObject(5, t.leasedAt() == null ? null : t.leasedAtMs(), java.sql.Types.BIGINT);
                    ps.setString(6, status);
                    ps.setObject(7, t.runId());
                    ps.setString(8, t.stepName());
                });
    }

    /** A step that failed without an attempt of its own (a wait that timed out with "fail"). */
    public void markFailed(StoreTx tx, UUID runId, String step, String error) {
        tx.update("UPDATE drover_step_run SET status = 'failed', error = ?, finished_at = now() WHERE run_id = ? AND step_name = ?",
                ps -> {
                    ps.setString(1, error);
                    ps.setObject(2, runId);
                    ps.setString(3, step);
                });
    }

    /** Cancels every step of the run that has not finished (children of a failed step are never started). */
    public int cancelUnfinished(StoreTx tx, UUID runId) {
        return tx.update("""
                UPDATE drover_step_run SET status = 'cancelled', finished_at = now()
                 WHERE run_id = ? AND status IN ('pending', 'queued', 'waiting', 'running')""",
                ps -> ps.setObject(1, runId));
    }

    /** Sets the status of the given steps: 'waiting' (a wait began), 'queued' (it ended), 'skipped' (done, no output). */
    public void setStatus(StoreTx tx, UUID[] runIds, String[] steps, String status) {
        tx.update("""
                UPDATE drover_step_run s SET status = ?,
                       finished_at = CASE WHEN ? = 'skipped' THEN now() END,
                       started_at = CASE WHEN ? = 'skipped' THEN now() ELSE s.started_at END
                  FROM unnest(?::uuid[], ?::text[]) AS u(run_id, step)
                 WHERE s.run_id = u.run_id AND s.step_name = u.step""",
                ps -> {
                    ps.setString(1, status);
                    ps.setString(2, status);
                    ps.setString(3, status);
                    ps.setArray(4, tx.array("uuid", runIds));
                    ps.setArray(5, tx.array("text", steps));
                });
    }

    /** Stores what the server hands the step besides input and parents' outputs (a received event, a failure). */
    public void setContext(StoreTx tx, UUID runId, String step, String contextJson) {
        tx.update("UPDATE drover_step_run SET context = ?::jsonb WHERE run_id = ? AND step_name = ?",
                ps -> {
                    ps.setString(1, contextJson);
                    ps.setObject(2, runId);
                    ps.setString(3, step);
                });
    }

    /** Contexts of the given steps (null ones left out), keyed by "runId/step". */
    public Map<String, String> contexts(StoreTx tx, UUID[] runIds, String[] steps) {
        Map<String, String> out = new HashMap<>();
        tx.query("""
                SELECT s.run_id, s.step_name, s.context::text FROM drover_step_run s
                  JOIN unnest(?::uuid[], ?::text[]) AS u(run_id, step) ON s.run_id = u.run_id AND s.step_name = u.step
                 WHERE s.context IS NOT NULL""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                },
                rs -> out.put(rs.getObject(1, UUID.class) + "/" + rs.getString(2), rs.getString(3)));
        return out;
    }

    /**
     * Creates (or, after a replay, resets) the row of a run's on-failure step, queued, holding the
     * failure as its context; returns the attempts it already used.
     */
    public int queueOnFailure(StoreTx tx, UUID runId, String step, String contextJson) {
        return tx.query("""
                INSERT INTO drover_step_run (run_id, step_name, status, pending_parents, context)
                VALUES (?, ?, 'queued', 0, ?::jsonb)
                ON CONFLICT (run_id, step_name) DO UPDATE
                   SET status = 'queued', context = excluded.context, output = NULL, error = NULL, worker_id = NULL,
                       started_at = NULL, finished_at = NULL
                RETURNING attempts""",
                ps -> {
                    ps.setObject(1, runId);
                    ps.setString(2, step);
                    ps.setString(3, contextJson);
                }, rs -> rs.getInt(1)).get(0);
    }

    /** Replay: the given steps start over (pending or queued), keeping their attempt counters. */
    public void reset(StoreTx tx, UUID runId, String[] steps, String[] statuses, Integer[] pendingParents) {
        tx.update("""
                UPDATE drover_step_run s SET status = u.status, pending_parents = u.pending, output = NULL, error = NULL,
                       context = NULL, worker_id = NULL, started_at = NULL, finished_at = NULL
                  FROM unnest(?::text[], ?::text[], ?::int[]) AS u(step, status, pending)
                 WHERE s.run_id = ? AND s.step_name = u.step""",
                ps -> {
                    ps.setArray(1, tx.array("text", steps));
                    ps.setArray(2, tx.array("text", statuses));
                    ps.setArray(3, tx.array("int", pendingParents));
                    ps.setObject(4, runId);
                });
    }

    /** Steps of the run that are queued but have no task (held back by the run's concurrency gate). */
    public List<Rows.ReadyStep> queuedWithoutTask(StoreTx tx, UUID[] runIds) {
        return tx.query("""
                SELECT s.run_id, s.step_name, s.attempts FROM drover_step_run s
                 WHERE s.run_id = ANY(?) AND s.status = 'queued'
                   AND NOT EXISTS (SELECT 1 FROM drover_task t WHERE t.run_id = s.run_id AND t.step_name = s.step_name)""",
                ps -> ps.setArray(1, tx.array("uuid", runIds)),
                rs -> new Rows.ReadyStep(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3)));
    }

    /**
     * See {@link #outputs}; a constant so that a test can check its plan. One probe of the primary key per
     * requested step (the lateral subquery cannot be flattened into a join): the dispatcher runs it on the
     * keyed pool, whose generic plan of a join, made on empty analysed tables, read the whole key per batch.
     */
    static final String OUTPUTS = """
                SELECT u.run_id, u.step, s.output::text FROM unnest(?::uuid[], ?::text[]) AS u(run_id, step)
                 CROSS JOIN LATERAL (SELECT s.output FROM drover_step_run s
                                      WHERE s.run_id = u.run_id AND s.step_name = u.step OFFSET 0) s""";

    /** Outputs of the given steps, keyed by run then step name. */
    public Map<UUID, Map<String, String>> outputs(StoreTx tx, UUID[] runIds, String[] steps) {
        Map<UUID, Map<String, String>> out = new HashMap<>();
        tx.query(OUTPUTS,
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                },
                rs -> out.computeIfAbsent(rs.getObject(1, UUID.class), k -> new HashMap<>())
                        .put(rs.getString(2), rs.getString(3) == null ? "null" : rs.getString(3)));
        return out;
    }

    /**
     * The run's steps as people see them: a queued step whose task is leased is running (the claim
     * writes only the task; the step row catches up when the attempt ends).
     */
    public List<StepRunRow> forRun(StoreTx tx, UUID runId) {
        return tx.query("""
                SELECT s.run_id, s.step_name,
                       CASE WHEN t.id IS NOT NULL AND s.status = 'queued' THEN 'running' ELSE s.status END AS status,
                       s.pending_parents, CASE WHEN t.id IS NOT NULL THEN t.attempt ELSE s.attempts END AS attempts,
                       s.output::text AS output, s.error, coalesce(t.worker_id, s.worker_id) AS worker_id,
                       coalesce(t.leased_at, s.started_at) AS started_at, s.finished_at
                  FROM drover_step_run s
                  LEFT JOIN drover_task t ON t.run_id = s.run_id AND t.step_name = s.step_name AND t.state = 'leased'
                 WHERE s.run_id = ? ORDER BY 9 NULLS LAST, s.step_name""",
                ps -> ps.setObject(1, runId),
                rs -> new StepRunRow(Sql.uuid(rs, "run_id"), rs.getString("step_name"), rs.getString("status"),
                        rs.getInt("pending_parents"), rs.getInt("attempts"), rs.getString("output"), rs.getString("error"),
                        Sql.uuid(rs, "worker_id"), Sql.instant(rs, "started_at"), Sql.instant(rs, "finished_at")));
    }

    public void insertAttempt(StoreTx tx, AttemptRow a) {
        tx.update("""
                INSERT INTO drover_step_attempt (run_id, step_name, attempt, status, error, error_type, stack_trace, worker_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, step_name, attempt) DO NOTHING""",
                ps -> {
                    ps.setObject(1, a.runId());
                    ps.setString(2, a.stepName());
                    ps.setInt(3, a.attempt());
                    ps.setString(4, a.status());
                    ps.setString(5, a.error());
                    ps.setString(6, a.errorType());
                    ps.setString(7, a.stackTrace());
                    ps.setObject(8, a.workerId());
                });
    }

    public List<AttemptRow> attempts(StoreTx tx, UUID runId) {
        return tx.query("""
                SELECT run_id, step_name, attempt, status, error, error_type, stack_trace, worker_id, finished_at
                  FROM drover_step_attempt WHERE run_id = ? ORDER BY step_name, attempt""",
                ps -> ps.setObject(1, runId),
                rs -> new AttemptRow(Sql.uuid(rs, "run_id"), rs.getString("step_name"), rs.getInt("attempt"),
                        rs.getString("status"), rs.getString("error"), rs.getString("error_type"),
                        rs.getString("stack_trace"), Sql.uuid(rs, "worker_id"), Sql.instant(rs, "finished_at")));
    }
}
