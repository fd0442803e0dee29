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
    /**
     * How much earlier in the queue each priority level puts a task (see V6__priority_aging.sql): a
     * priority-4 task goes before priority-1 tasks up to 90 s older, and no further, so low priority
     * work is delayed, never starved.
     */
    public static final long PRIORITY_AGING_MS = 30_000; // written as 30000 in insert()

    private static final String RETURNING = """
            RETURNING t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority,
                      t.state, t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id, t.leased_at""";

    private static final String INSERT_BODY = """
            INSERT INTO drover_task (tenant_id, run_id, step_name, workflow_name, workflow_version, action, priority,
                                     state, attempt, worker_id, leased_at, lease_expires_at, execution_deadline,
                                     max_attempts, slot_cost, execution_timeout_ms, schedule_deadline, rank,
                                     required_labels, preferred_labels, sticky, sticky_worker)
            SELECT u.tenant, u.run_id, u.step, u.wf, u.version, u.action, u.prio,
                   CASE WHEN u.worker IS NULL THEN 'queued' ELSE 'leased' END,
                   CASE WHEN u.worker IS NULL THEN u.base ELSE u.base + 1 END,
                   u.worker, CASE WHEN u.worker IS NOT NULL THEN now() END,
                   CASE WHEN u.worker IS NOT NULL THEN now() + ? * interval '1 millisecond' END,
                   CASE WHEN u.worker IS NOT NULL AND u.timeout > 0 THEN now() + u.timeout * interval '1 millisecond' END,
                   u.base + u.max_attempts, u.cost, u.timeout,
                   CASE WHEN u.s2s > 0 AND u.worker IS NULL THEN now() + u.s2s * interval '1 millisecond' END,
                   CASE WHEN u.rank_at > 0 THEN u.rank_at ELSE (extract(epoch FROM now()) * 1000)::bigint END - 30000 * (CASE WHEN u.prio = 0 THEN 2 ELSE u.prio END),
                   u.required::jsonb, u.preferred::jsonb, u.sticky,
                   %s
              FROM unnest(?::text[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[], ?::int[],
                          ?::int[], ?::bigint[], ?::bigint[], ?::uuid[], ?::int[], ?::bigint[], ?::text[], ?::text[], ?::text[])
                   AS u(tenant, run_id, step, wf, version, action, prio, max_attempts, cost, timeout, s2s, worker, base, rank_at,
                        required, preferred, sticky)""";
    private static final String INSERT_RETURNING = """

            RETURNING id, run_id, step_name, worker_id)
            SELECT id, run_id, step_name FROM ins WHERE worker_id IS NOT NULL""";
    private static final String INSERT = "WITH ins AS (\n" + insertBody(false) + INSERT_RETURNING;
    private static final String INSERT_NEW_RUNS = "WITH ins AS (\n" + insertBody(true) + INSERT_RETURNING;

    /** The task insert from arrays (see {@link #insert(StoreTx, List, long, boolean)} for {@code runsJustInserted}). */
    static String insertBody(boolean runsJustInserted) {
        return INSERT_BODY.formatted(runsJustInserted ? "NULL::uuid"
                : "CASE WHEN u.sticky IS NOT NULL THEN (SELECT r.sticky_worker FROM drover_run r WHERE r.id = u.run_id) END");
    }

    /**
     * Inserts tasks; those with {@code leasedTo} set start leased to that worker as attempt 1 (direct
     * dispatch: the trigger's own transaction hands the step over, no claim needed). Returns, in the
     * order given, the new task id of each leased task (null for queued ones).
     */
    public List<Long> insert(StoreTx tx, List<NewTask> tasks, long leaseMs) {
        return insert(tx, tasks, leaseMs, false);
    }

    /**
     * As {@link #insert(StoreTx, List, long)}; {@code runsJustInserted}: every task's run was inserted
     * in this transaction, so none has a sticky worker yet and the lookup of it is left out. That also
     * lets the statement keep a generic plan on the insert pool: with the lookup, PostgreSQL costs a
     * generic plan (10 rows assumed) above a custom one for a small batch and plans every call.
     */
    public List<Long> insert(StoreTx tx, List<NewTask> tasks, long leaseMs, boolean runsJustInserted) {
        int n = tasks.size();
        java.util.Map<String, Long> ids = new java.util.HashMap<>(n * 2);
        // Only tasks leased at once (direct dispatch) need their ids back: returning every id of a bulk
        // insert and matching it by (run, step) string keys cost the JVM more than the rows cost PostgreSQL.
        tx.query(runsJustInserted ? INSERT_NEW_RUNS : INSERT,
                ps -> bindInsert(tx, ps, 1, tasks, leaseMs),
                rs -> ids.put(rs.getString(2) + "/" + rs.getString(3), rs.getLong(1)));
        List<Long> out = new java.util.ArrayList<>(n);
        for (NewTask t : tasks) out.add(t.leasedTo() == null ? null : ids.get(t.runId() + "/" + t.stepName()));
        return out;
    }

    /** Binds {@link #insertBody}'s parameters from {@code at}; returns the next parameter's index. */
    static int bindInsert(StoreTx tx, java.sql.PreparedStatement ps, int at, List<NewTask> tasks, long leaseMs)
            throws SQLException {
        int n = tasks.size();
        Object[] tenants = new Object[n], runs = new Object[n], steps = new Object[n], wfs = new Object[n],
                versions = new Object[n], actions = new Object[n], prios = new Object[n], maxAttempts = new Object[n],
                costs = new Object[n], timeouts = new Object[n], s2s = new Object[n], workers = new Object[n],
                bases = new Object[n], rankAts = new Object[n], required = new Object[n], preferred = new Object[n],
                sticky = new Object[n];
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
            workers[i] = t.leasedTo();
            bases[i] = t.attemptBase();
            rankAts[i] = t.rankAt();
            if (t.affinity() != null) {
                required[i] = t.affinity().requiredJson();
                preferred[i] = t.affinity().preferredJson();
                sticky[i] = t.affinity().sticky();
            }
        }
        ps.setLong(at++, leaseMs);
        ps.setArray(at++, tx.array("text", tenants));
        ps.setArray(at++, tx.array("uuid", runs));
        ps.setArray(at++, tx.array("text", steps));
        ps.setArray(at++, tx.array("text", wfs));
        ps.setArray(at++, tx.array("text", versions));
        ps.setArray(at++, tx.array("text", actions));
        ps.setArray(at++, tx.array("smallint", prios));
        ps.setArray(at++, tx.array("int", maxAttempts));
        ps.setArray(at++, tx.array("int", costs));
        ps.setArray(at++, tx.array("bigint", timeouts));
        ps.setArray(at++, tx.array("bigint", s2s));
        ps.setArray(at++, tx.array("uuid", workers));
        ps.setArray(at++, tx.array("int", bases));
        ps.setArray(at++, tx.array("bigint", rankAts));
        ps.setArray(at++, tx.array("text", required));
        ps.setArray(at++, tx.array("text", preferred));
        ps.setArray(at++, tx.array("text", sticky));
        return at;
    }

    /** A task just leased to a worker, with what the worker needs to run it. */
    public record Claimed(TaskRow task, String inputJson, String metadataJson, String sticky, UUID stickyWorker) {
        /** A step of a hard-sticky run claimed before the run had its worker: see {@link #keepHardSticky}. */
        public boolean firstOfHardSticky() {
            return "hard".equals(sticky) && stickyWorker == null;
        }
    }

    /**
     * How long, at most, a task with preferred labels waits for a better-scoring worker than the one
     * claiming (scaled by how much better the best available worker scores); see V9__affinity.sql.
     */
    public static final long PREFERENCE_WINDOW_MS = 1_000;
    /** How long a step of a soft-sticky run waits for the run's worker while that worker is available. */
    public static final long SOFT_STICKY_MS = 1_000;

    /**
     * See {@link #claim}; a constant so that a test can check its plan. The dispatcher runs it on the
     * keyed pool (one cached generic plan; planning was ~1 ms of each claim). So that no statistics can
     * turn it into a scan, every row it touches is reached by key from the rows picked off the ready
     * index: {@code id = ANY(ARRAY(...))} for the updates, a lateral subquery per claimed task for its
     * run's input (a plain join may put the run table outside and the claimed tasks inside, compared
     * pair by pair). The workers CTE reads drover_worker, one row per connected worker, only when a task
     * has labels or stickiness.
     */
    static final String CLAIM = """
                WITH live AS (
                    SELECT w.id, w.labels FROM drover_worker w
                     WHERE w.tenant_id = ? AND ? = ANY(w.actions) AND w.state = 'active'
                       AND w.last_heartbeat_at > now() - ? * interval '1 millisecond'),
                picked AS (
                    SELECT id FROM drover_task
                     WHERE state = 'queued' AND tenant_id = ? AND action = ? AND available_at <= now()
                       AND (required_labels IS NULL AND preferred_labels IS NULL AND sticky_worker IS NULL
                            OR drover_may_claim(drover_task, ?, ?::jsonb,
                                   (SELECT coalesce(jsonb_object_agg(l.id::text, l.labels), '{}') FROM live l),
                                   (SELECT coalesce(jsonb_agg(l.labels), '[]') FROM live l),
                                   ?, ?))
                       AND NOT EXISTS (SELECT 1 FROM drover_worker w WHERE w.id = ? AND w.state <> 'active')
                     ORDER BY rank, id
                     LIMIT ? FOR UPDATE SKIP LOCKED),
                claimed AS (
                    UPDATE drover_task t
                       SET state = 'leased', attempt = t.attempt + 1, worker_id = ?, leased_at = now(),
                           lease_expires_at = now() + ? * interval '1 millisecond',
                           execution_deadline = CASE WHEN t.execution_timeout_ms > 0
                                                     THEN now() + t.execution_timeout_ms * interval '1 millisecond' END
                     WHERE t.id = ANY(ARRAY(SELECT id FROM picked))
                    RETURNING t.*),
                -- Only the task row is written: the step shows running and the run started because a
                -- leased task exists (see RunQueries/StepRunQueries), and both rows are written once, when
                -- the attempt ends. Updating them here too cost a third of the claim's time.
                stuck AS (
                    UPDATE drover_run r SET sticky_worker = ?::uuid
                     WHERE r.id = ANY(ARRAY(SELECT run_id FROM claimed WHERE sticky IS NOT NULL)) AND r.sticky_worker IS NULL)
                SELECT c.id, c.tenant_id, c.run_id, c.step_name, c.workflow_name, c.workflow_version, c.priority,
                       c.state, c.attempt, c.max_attempts, c.slot_cost, c.execution_timeout_ms, c.worker_id,
                       c.leased_at, c.sticky, c.sticky_worker, r.input::text AS input, r.metadata::text AS metadata
                  FROM claimed c
                 CROSS JOIN LATERAL (SELECT r.input, r.metadata FROM drover_run r WHERE r.id = c.run_id OFFSET 0) r
                 ORDER BY c.rank, c.id""";

    /**
     * Leases up to {@code limit} ready tasks the worker can run, highest priority then oldest first,
     * One action per call: with a single action the ready index yields rows already in priority order and
     * the scan stops at the limit (with {@code action = ANY(...)} PostgreSQL sorts every ready row first).
     * In the same statement it marks their steps (and runs not yet started) running and reads the
     * runs' inputs: one round trip per batch. SKIP LOCKED lets several dispatchers (and server
     * replicas) claim side by side without waiting for each other.
     *
     * <p>Affinity: a task with labels or stickiness is claimed only if {@code drover_may_claim} allows it
     * for this worker ({@code labelsJson}); the available workers it compares with are read once per
     * statement. A worker paused or draining (any replica may have set it) claims nothing. The claim of
     * a sticky run's first step records the worker on the run.
     */
    public List<Claimed> claim(StoreTx tx, String tenantId, String action, int limit, UUID workerId, String labelsJson,
                               long leaseMs) {
        return tx.query(CLAIM,
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, action);
                    ps.setLong(3, leaseMs);
                    ps.setString(4, tenantId);
                    ps.setString(5, action);
                    ps.setObject(6, workerId);
                    ps.setString(7, labelsJson);
                    ps.setLong(8, PREFERENCE_WINDOW_MS);
                    ps.setLong(9, SOFT_STICKY_MS);
                    ps.setObject(10, workerId);
                    ps.setInt(11, limit);
                    ps.setObject(12, workerId);
                    ps.setLong(13, leaseMs);
                    ps.setObject(14, workerId);
                }, rs -> new Claimed(row(rs), rs.getString("input"), rs.getString("metadata"), rs.getString("sticky"),
                        Sql.uuid(rs, "sticky_worker")));
    }

    /**
     * Of the given tasks just claimed by {@code workerId} (first steps of hard-sticky runs), gives back
     * those whose run is now stuck to another worker, and returns their ids. Two replicas may claim two
     * parallel first steps of one run at once: both claims update the run row, so one waits for the
     * other and finds the run taken; this statement, run after the claim, sees that and puts the step
     * back in the queue for the run's worker. Same transaction, so no worker ever saw it.
     */
    public java.util.Set<Long> keepHardSticky(StoreTx tx, UUID workerId, Long[] ids) {
        return new java.util.HashSet<>(tx.query("""
                WITH wrong AS (
                    SELECT t.id, r.sticky_worker AS owner FROM drover_task t JOIN drover_run r ON r.id = t.run_id
                     WHERE t.id = ANY(?) AND t.sticky = 'hard' AND r.sticky_worker IS DISTINCT FROM ?),
                back AS (
                    UPDATE drover_task t SET state = 'queued', attempt = t.attempt - 1, worker_id = NULL,
                           lease_expires_at = NULL, execution_deadline = NULL, sticky_worker = w.owner
                      FROM wrong w WHERE t.id = w.id
                    RETURNING t.id)
                SELECT id FROM back""",
                ps -> {
                    ps.setArray(1, tx.array("bigint", ids));
                    ps.setObject(2, workerId);
                }, rs -> rs.getLong(1)));
    }

    /** Gives back leased tasks that were claimed but never sent (the worker had no room or went away). */
    public void unclaim(StoreTx tx, Long[] ids) {
        tx.update("""
                UPDATE drover_task SET state = 'queued', attempt = attempt - 1, worker_id = NULL, lease_expires_at = NULL,
                       execution_deadline = NULL
                 WHERE id = ANY(?) AND state = 'leased'""",
                ps -> ps.setArray(1, tx.array("bigint", ids)));
    }

    /**
     * See {@link #deleteLeased}; a constant so that a test can check its plan. The tasks are reached by
     * key ({@code id = ANY}) and each one's attempt is matched against "id:attempt" keys, which with a
     * custom plan PostgreSQL looks up in a hash table: no join with the arrays. Joined with
     * {@code unnest(ids, attempts)}, the plan made with drover_task analysed drained (its usual state)
     * read all of it, or with scans off every task leased to the worker through drover_task_worker,
     * comparing each with every key (20-33 µs a row, growing between vacuums, in concurrent-triggers).
     * The fence is written {@code IS NOT DISTINCT FROM} so that no index but the primary key applies
     * (see COMPLETE_SINGLE_STEPS). Every condition is on the task row itself, so a row updated meanwhile
     * (a lease renewal) is checked again in its new version, as before.
     */
    static final String DELETE_LEASED = """
                DELETE FROM drover_task t
                 WHERE t.id = ANY(?::bigint[]) AND (t.id::text || ':' || t.attempt::text) = ANY(?::text[])
                   AND t.state IS NOT DISTINCT FROM 'leased' AND t.worker_id IS NOT DISTINCT FROM ?
                """ + RETURNING;

    /**
     * Deletes the leased tasks whose current attempt is the one given; returns those deleted (the
     * accepted reports). Call it after {@link StoreTx#keyedPlans()}: with scans allowed, statistics of a
     * drained queue make a sequential scan look cheapest.
     */
    public List<TaskRow> deleteLeased(StoreTx tx, UUID workerId, Long[] ids, Integer[] attempts) {
        Object[] keys = new Object[ids.length];
        for (int i = 0; i < ids.length; i++) keys[i] = ids[i] + ":" + attempts[i];
        return tx.query(DELETE_LEASED,
                ps -> {
                    ps.setArray(1, tx.array("bigint", ids));
                    ps.setArray(2, tx.array("text", keys));
                    ps.setObject(3, workerId);
                }, TaskQueries::row);
    }

    /** A succeeded attempt recorded by {@link #completeSingleSteps}: its task, and its run when that finished. */
    public record CompletedSingle(long taskId, UUID runId, boolean runFinished) {}

    /** See {@link #completeSingleSteps}; a constant so that a test can check its plan. */
    static final String COMPLETE_SINGLE_STEPS = """
                WITH k AS (SELECT ?::bigint[] AS ids, ?::int[] AS attempts, ?::text[] AS outputs),
                -- The tasks by key, each one's attempt and output by its position (no join with the arrays:
                -- planned while drover_task had 0 pages, a join probed the table once and filtered the keys).
                d AS (
                  DELETE FROM drover_task t
                   WHERE t.id = ANY((SELECT ids FROM k)::bigint[])
                     AND t.attempt = ((SELECT attempts FROM k))[array_position((SELECT ids FROM k), t.id)]
                     AND t.state IS NOT DISTINCT FROM 'leased' AND t.worker_id IS NOT DISTINCT FROM ?
                  RETURNING t.id, t.run_id, t.step_name, t.attempt, t.worker_id, t.leased_at,
                            ((SELECT outputs FROM k))[array_position((SELECT ids FROM k), t.id)] AS output),
                -- The counted attempts as arrays, one element per run (a single-step run has one task): the
                -- updates below reach their rows by key (= ANY) and take each row's values by its position.
                a AS (
                  SELECT array_agg(run_id) AS runs, array_agg(step_name) AS steps, array_agg(attempt) AS attempts,
                         array_agg(worker_id) AS workers, array_agg(leased_at) AS leased, array_agg(output) AS outputs
                    FROM d),
                s AS (
                  UPDATE drover_step_run s
                     SET status = 'succeeded', finished_at = now(), error = NULL,
                         output = ((SELECT outputs FROM a))[array_position((SELECT runs FROM a), s.run_id)]::jsonb,
                         attempts = ((SELECT attempts FROM a))[array_position((SELECT runs FROM a), s.run_id)],
                         worker_id = ((SELECT workers FROM a))[array_position((SELECT runs FROM a), s.run_id)],
                         started_at = coalesce(((SELECT leased FROM a))[array_position((SELECT runs FROM a), s.run_id)],
                                               s.started_at)
                   WHERE s.run_id = ANY((SELECT runs FROM a)::uuid[])
                     AND s.step_name = ((SELECT steps FROM a))[array_position((SELECT runs FROM a), s.run_id)]),
                r AS (
                  UPDATE drover_run r
                     SET pending_steps = r.pending_steps - 1,
                         status = CASE WHEN r.pending_steps - 1 = 0 THEN 'succeeded'
                                       WHEN r.status = 'queued' THEN 'running' ELSE r.status END,
                         started_at = coalesce(r.started_at,
                                               ((SELECT leased FROM a))[array_position((SELECT runs FROM a), r.id)], now()),
                         finished_at = CASE WHEN r.pending_steps - 1 = 0 THEN now() END,
                         output = CASE WHEN r.pending_steps - 1 = 0
                                       THEN ((SELECT outputs FROM a))[array_position((SELECT runs FROM a), r.id)]::jsonb END
                   WHERE r.id = ANY((SELECT runs FROM a)::uuid[]) AND r.finished_at IS NULL
                  RETURNING r.id, r.pending_steps)
                SELECT d.id, d.run_id, NULL::boolean FROM d
                UNION ALL SELECT NULL, r.id, r.pending_steps = 0 FROM r""";


    /**
     * Records succeeded attempts of single-step runs in one statement: deletes each task if the attempt
     * is still its current one, leased to {@code workerId} (the fence), marks its step succeeded and
     * finishes its run with the step's output. Only for steps that are the one step of their workflow,
     * without concurrency groups: the caller knows (see WorkerSession), since nothing else in the run
     * is touched. Returns the attempts that counted; the others were fenced off and changed nothing.
     * Every join is by primary key. Run on the keyed pool (one cached plan). The fence's tests of state
     * and worker are written {@code IS NOT DISTINCT FROM} (the same as {@code =} here: neither side is
     * null) because that neither is an indexable operator nor proves a partial index's predicate: with
     * {@code state = 'leased'} the plan made on an empty table read the whole per-worker index (every
     * leased task) for each call; see KeyedPlansTest. No statement in it joins a table with another row
     * set: with the step and run tables analysed empty (a fresh install) a join was planned as a read of
     * the whole table per completed step. The updates reach their rows by key ({@code = ANY} of the
     * counted attempts' run ids) and take each row's values by its position in those arrays, which costs
     * the square of the batch in array lookups: the engine sends at most 64 here. The deleted tasks and
     * the updated runs come back as separate rows, matched here by run id (joining the two in SQL
     * compared every pair: 250,000 for a batch of 500).
     */
    public List<CompletedSingle> completeSingleSteps(StoreTx tx, UUID workerId, Long[] ids, Integer[] attempts,
                                                     String[] outputs) {
        record Row(Long taskId, UUID runId, boolean runFinished) {}
        List<Row> rows = tx.query(COMPLETE_SINGLE_STEPS,
                ps -> {
                    ps.setArray(1, tx.array("bigint", ids));
                    ps.setArray(2, tx.array("int", attempts));
                    ps.setArray(3, tx.array("text", outputs));
                    ps.setObject(4, workerId);
                },
                rs -> new Row(rs.getObject(1, Long.class), rs.getObject(2, UUID.class), rs.getBoolean(3)));
        // A task's run that is not among the runs updated was finished already (cancelled meanwhile).
        java.util.Set<UUID> finished = new java.util.HashSet<>();
        for (Row r : rows) if (r.taskId() == null && r.runFinished()) finished.add(r.runId());
        List<CompletedSingle> out = new java.util.ArrayList<>(rows.size());
        for (Row r : rows) {
            if (r.taskId() != null) out.add(new CompletedSingle(r.taskId(), r.runId(), finished.contains(r.runId())));
        }
        return out;
    }

    /** Locks the task if {@code attempt} is its current attempt, leased to {@code workerId}. */
    public java.util.Optional<TaskRow> lockLeased(StoreTx tx, UUID workerId, long id, int attempt) {
        return tx.query("""
                SELECT t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority, t.state,
                       t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id, t.leased_at
                  FROM drover_task t WHERE t.id = ? AND t.attempt = ? AND t.state = 'leased' AND t.worker_id = ?
                   FOR UPDATE""",
                ps -> {
                    ps.setLong(1, id);
                    ps.setInt(2, attempt);
                    ps.setObject(3, workerId);
                }, TaskQueries::row).stream().findFirst();
    }

    /**
     * When a worker (re)opens its stream it says which attempts it holds; any other task leased to it
     * was lost on the way (sent on a stream that broke). Those go back to the queue at once instead of
     * waiting for a lease that the live worker would keep renewing forever. The attempt number is
     * kept, so the next claim gets a new fencing token.
     */
    public int releaseNotHeld(StoreTx tx, UUID workerId, Long[] heldTaskIds) {
        return tx.update("""
                UPDATE drover_task SET state = 'queued', worker_id = NULL, lease_expires_at = NULL,
                       execution_deadline = NULL, available_at = now()
                 WHERE worker_id = ? AND state = 'leased' AND NOT (id = ANY(?))""",
                ps -> {
                    ps.setObject(1, workerId);
                    ps.setArray(2, tx.array("bigint", heldTaskIds));
                });
    }

    /**
     * Gives back attempts a worker shutting down received and will not start (ReleaseSteps): queued again
     * at once with their attempt number given back, as if never handed out (like {@link #unclaim}),
     * provided each is still that attempt,
     * leased to that worker (fencing: a late or repeated call changes nothing). Returns those given back.
     */
    public List<TaskRow> handBack(StoreTx tx, String tenantId, UUID workerId, Long[] ids, Integer[] attempts) {
        return tx.query("""
                WITH back AS (
                    UPDATE drover_task t SET state = 'queued', attempt = t.attempt - 1, worker_id = NULL,
                           lease_expires_at = NULL, execution_deadline = NULL
                      FROM unnest(?::bigint[], ?::int[]) AS u(id, attempt)
                     WHERE t.id = u.id AND t.attempt = u.attempt AND t.state = 'leased' AND t.worker_id = ?
                       AND t.tenant_id = ?
                """ + RETURNING + """
                )
                SELECT * FROM back""",
                ps -> {
                    ps.setArray(1, tx.array("bigint", ids));
                    ps.setArray(2, tx.array("int", attempts));
                    ps.setObject(3, workerId);
                    ps.setString(4, tenantId);
                }, TaskQueries::row);
    }

    /** Ids of the tasks currently leased to the worker (the truth a replica's slot count is rebuilt from). */
    public java.util.Set<Long> leasedTo(StoreTx tx, UUID workerId) {
        return new java.util.HashSet<>(tx.query("SELECT id FROM drover_task WHERE worker_id = ? AND state = 'leased'",
                ps -> ps.setObject(1, workerId), rs -> rs.getLong(1)));
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

    /**
     * Leased tasks whose worker stopped heartbeating; locked for the caller to retry or fail them.
     * Liveness is per worker (one row a heartbeat touches), not per task: renewing every task's lease on
     * each heartbeat would lock the very rows that claims and reports are busy with. A task's own
     * {@code lease_expires_at} is a floor: a step is never taken back sooner than one lease after it
     * was handed out.
     */
    public List<TaskRow> expiredLeases(StoreTx tx, long leaseMs, int limit) {
        return tx.query("""
                SELECT t.id, t.tenant_id, t.run_id, t.step_name, t.workflow_name, t.workflow_version, t.priority, t.state,
                       t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id, t.leased_at
                  FROM drover_task t
                 WHERE t.state = 'leased' AND t.lease_expires_at < now()
                   AND t.worker_id IN (SELECT id FROM drover_worker
                                        WHERE last_heartbeat_at < now() - ? * interval '1 millisecond')
                 ORDER BY t.id LIMIT ? FOR UPDATE OF t SKIP LOCKED""",
                ps -> {
                    ps.setLong(1, leaseMs);
                    ps.setInt(2, limit);
                }, TaskQueries::row);
    }

    /** Leased tasks whose worker is not registered at all (its row was pruned or removed by hand). */
    public List<TaskRow> orphanedLeases(StoreTx tx, int limit) {
        // Through the per-worker index: the distinct holders of leases are few, the leased rows may be many.
        return lockWhere("""
                state = 'leased' AND lease_expires_at < now()
                AND t.worker_id IN (SELECT h.worker_id FROM (SELECT DISTINCT worker_id FROM drover_task
                                                              WHERE state = 'leased') h
                                     WHERE NOT EXISTS (SELECT 1 FROM drover_worker w WHERE w.id = h.worker_id))""", limit, tx);
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
                       t.attempt, t.max_attempts, t.slot_cost, t.execution_timeout_ms, t.worker_id, t.leased_at
                  FROM drover_task t WHERE """ + " " + condition + " ORDER BY t.id LIMIT ? FOR UPDATE SKIP LOCKED",
                ps -> ps.setInt(1, limit), TaskQueries::row);
    }

    /**
     * At server start: workers could not heartbeat while no server was up, which is not their fault,
     * so every worker holding steps gets one full lease from now to reconnect.
     */
    public int graceWorkersWithLeases(StoreTx tx) {
        return tx.update("""
                UPDATE drover_worker SET last_heartbeat_at = now()
                 WHERE id IN (SELECT DISTINCT worker_id FROM drover_task WHERE state = 'leased')""", ps -> { });
    }

    /** See {@link #anyReady}. */
    static final String ANY_READY = """
                SELECT EXISTS (SELECT 1 FROM drover_task
                                WHERE state = 'queued' AND tenant_id = ? AND action = ANY(?) AND available_at <= now())""";

    /**
     * True when some task is ready now for one of the actions. An idle claim (no backlog known) is a
     * large statement whose planning alone took ~1.2 ms, and one ran after every report: at 100 runs/s
     * that was a claim per run that found nothing. This check costs a fraction of it. A probe of the ready
     * index only, so it runs as a keyed statement (a cached plan: custom planning was ~0.2 ms of each
     * call, over 10,000 calls a minute under a steady trigger load).
     */
    public boolean anyReady(StoreTx tx, String tenantId, String[] actions) {
        return tx.query(ANY_READY,
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("text", actions));
                }, rs -> rs.getBoolean(1)).get(0);
    }

    /** How many tasks are queued (ready or waiting out a backoff). */
    public long countQueued(StoreTx tx) {
        return tx.query("SELECT count(*) FROM drover_task WHERE state = 'queued'", ps -> { }, rs -> rs.getLong(1)).get(0);
    }

    private static TaskRow row(ResultSet rs) throws SQLException {
        return new TaskRow(rs.getLong("id"), rs.getString("tenant_id"), Sql.uuid(rs, "run_id"), rs.getString("step_name"),
                rs.getString("workflow_name"), rs.getString("workflow_version"), rs.getInt("priority"),
                rs.getString("state"), rs.getInt("attempt"), rs.getInt("max_attempts"), rs.getInt("slot_cost"),
                rs.getLong("execution_timeout_ms"), Sql.uuid(rs, "worker_id"), Sql.instant(rs, "leased_at"));
    }
}
