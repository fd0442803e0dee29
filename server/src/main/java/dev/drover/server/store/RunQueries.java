package dev.drover.server.store;

import dev.drover.server.store.Rows.InsertedRun;
import dev.drover.server.store.Rows.NewRun;
import dev.drover.server.store.Rows.RunInput;
import dev.drover.server.store.Rows.RunRow;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** SQL of drover_run: one row per run, kept as history after the run finishes. */
public final class RunQueries {
    /**
     * A run's status as people see it. The claim writes only the task row, so a run stays 'queued' in
     * its row until an attempt ends; while one of its tasks is leased it is running (and started when
     * that task was leased).
     */
    private static final String STATUS = """
            CASE WHEN drover_run.status = 'queued' AND EXISTS (
                          SELECT 1 FROM drover_task t WHERE t.run_id = drover_run.id AND t.state = 'leased')
                 THEN 'running' ELSE drover_run.status END""";
    private static final String STARTED_AT = """
            coalesce(drover_run.started_at, CASE WHEN drover_run.status = 'queued' THEN (
                          SELECT min(t.leased_at) FROM drover_task t WHERE t.run_id = drover_run.id AND t.state = 'leased') END)""";
    private static final String COLUMNS = """
            id, tenant_id, workflow_name, workflow_version, """ + STATUS + """
             AS status, input::text AS input, output::text AS output,
            error, metadata::text AS metadata, priority, idempotency_key, pending_steps, parent_run_id,
            parent_step, child_index, event_id, created_at, """ + STARTED_AT + """
             AS started_at, finished_at""";

    /**
     * Inserts runs in one statement. A run whose idempotency key already exists (in the table or earlier
     * in the same batch) is not inserted; the existing run's id is returned with created=false (see
     * {@link #outcome}).
     */
    public List<InsertedRun> insert(StoreTx tx, List<NewRun> runs) {
        Set<UUID> inserted = new HashSet<>(tx.query(insertSql(runs), ps -> bindInsert(tx, ps, 1, runs),
                rs -> rs.getObject(1, UUID.class)));
        return outcome(tx, runs, inserted);
    }

    /** What {@link #insertWithSteps} wrote: the ids of the runs inserted, and per task the id of a leased one. */
    public record Triggered(Set<UUID> inserted, List<Long> leasedTaskIds) {
        public boolean all(List<NewRun> runs) {
            return inserted.size() == runs.size();
        }
    }

    /**
     * A trigger's three inserts in one statement: the runs, then the step rows and root tasks of the runs
     * that were inserted (a run whose idempotency key or id already exists gets neither: see
     * {@link #outcome}). One round trip instead of three. {@code leasedTaskIds} is aligned with {@code tasks}:
     * the new id of each task leased at once (direct dispatch) whose run was inserted, else null.
     * Every statement in it reads only its arrays and unique indexes, so a generic plan stays right.
     */
    public Triggered insertWithSteps(StoreTx tx, List<NewRun> runs, List<Rows.NewStepRun> steps, List<Rows.NewTask> tasks,
                                     long leaseMs) {
        String sql = "WITH r AS (\n" + insertSql(runs) + "),\n"
                + "s AS (\n" + StepRunQueries.INSERT + "\n WHERE u.run_id IN (SELECT id FROM r)),\n"
                + "t AS (\n" + TaskQueries.insertBody(true) + "\n WHERE u.run_id IN (SELECT id FROM r)"
                + " RETURNING id, run_id, step_name, worker_id)\n"
                + "SELECT id, NULL::text, NULL::bigint FROM r\n"
                + "UNION ALL SELECT run_id, step_name, id FROM t WHERE worker_id IS NOT NULL";
        Set<UUID> inserted = new HashSet<>(runs.size() * 2);
        Map<String, Long> taskIds = new HashMap<>();
        tx.query(sql,
                ps -> {
                    int at = bindInsert(tx, ps, 1, runs);
                    at = StepRunQueries.bindInsert(tx, ps, at, steps);
                    TaskQueries.bindInsert(tx, ps, at, tasks, leaseMs);
                },
                rs -> {
                    UUID id = rs.getObject(1, UUID.class);
                    String step = rs.getString(2);
                    if (step == null) inserted.add(id);
                    else taskIds.put(id + "/" + step, rs.getLong(3));
                    return null;
                });
        List<Long> leased = new ArrayList<>(tasks.size());
        for (Rows.NewTask t : tasks) leased.add(t.leasedTo() == null ? null : taskIds.get(t.runId() + "/" + t.stepName()));
        return new Triggered(inserted, leased);
    }

    /**
     * Whether {@link #copyWithSteps} may write these rows: a big batch (COPY's extra round trips pay
     * off from a few hundred rows), no idempotency key (COPY cannot skip a row whose key exists) and no
     * task with affinity. A run id that exists already (a client's retried request: the SDK chooses
     * ids) fails the COPY with a unique violation; the caller then writes the batch again with
     * {@link #insertWithSteps}, which returns the existing runs.
     */
    public static boolean copyable(List<NewRun> runs, List<Rows.NewTask> tasks) {
        if (runs.size() < COPY_MIN) return false;
        for (NewRun r : runs) if (r.idempotencyKey() != null) return false;
        for (Rows.NewTask t : tasks) if (t.affinity() != null) return false;
        return true;
    }

    /** From this many runs a batch is written with COPY (see {@link #copyWithSteps}). */
    public static final int COPY_MIN = 500;

    /**
     * As {@link #insertWithSteps}, for a batch that {@link #copyable} accepts: runs, steps and queued
     * tasks are written with COPY, which costs PostgreSQL about two thirds of the array insert per run
     * (no array parsing, unnest or conflict check; pg_stat_statements, 200,000 runs in batches of
     * 10,000: 18 µs per run against 26.5). What the insert computes from {@code now()} (rank, deadlines,
     * start times) is computed here from the transaction's own {@code now()}, read first, so the values
     * are the same. Tasks leased at once (direct dispatch) take the array insert, which returns their ids.
     */
    public Triggered copyWithSteps(StoreTx tx, List<NewRun> runs, List<Rows.NewStepRun> steps, List<Rows.NewTask> tasks,
                                   long leaseMs) {
        long[] now = tx.query("SELECT (extract(epoch FROM now()) * 1000)::bigint, (extract(epoch FROM now()) * 1000000)::bigint",
                ps -> { }, rs -> new long[] {rs.getLong(1), rs.getLong(2)}).get(0);
        String nowText = timestamp(now[1]);
        CopyText r = new CopyText(runs.size(), 160);
        Set<UUID> inserted = new HashSet<>(runs.size() * 2);
        for (NewRun run : runs) {
            inserted.add(run.id());
            r.uuid(run.id()).text(run.tenantId()).text(run.workflowName()).text(run.workflowVersion())
                    .text(run.started() ? "running" : "queued").text(run.inputJson()).text(run.metadataJson())
                    .num(run.priority()).num(run.pendingSteps()).text(run.started() ? nowText : null)
                    .uuid(run.parentRunId()).text(run.parentStep()).num(run.childIndex()).uuid(run.eventId()).endRow();
        }
        tx.copyIn("COPY drover_run (id, tenant_id, workflow_name, workflow_version, status, input, metadata, priority,"
                + " pending_steps, started_at, parent_run_id, parent_step, child_index, event_id) FROM STDIN", r.bytes());
        CopyText s = new CopyText(steps.size(), 64);
        for (Rows.NewStepRun step : steps) {
            boolean leased = step.workerId() != null;
            s.uuid(step.runId()).text(step.stepName()).text(step.status()).num(step.pendingParents()).num(leased ? 1 : 0)
                    .uuid(step.workerId()).text(leased ? nowText : null).endRow();
        }
        tx.copyIn("COPY drover_step_run (run_id, step_name, status, pending_parents, attempts, worker_id, started_at) FROM STDIN",
                s.bytes());
        CopyText t = new CopyText(tasks.size(), 160);
        List<Rows.NewTask> leasedTasks = new ArrayList<>();
        for (Rows.NewTask task : tasks) {
            if (task.leasedTo() != null) {
                leasedTasks.add(task);
                continue;
            }
            // The array insert's expressions for a queued task, with its now(): see TaskQueries.INSERT_BODY.
            long rank = (task.rankAt() > 0 ? task.rankAt() : now[0])
                    - TaskQueries.PRIORITY_AGING_MS * (task.priority() == 0 ? 2 : task.priority());
            String deadline = task.scheduleToStartTimeoutMs() > 0
                    ? timestamp(now[1] + task.scheduleToStartTimeoutMs() * 1000) : null;
            t.text(task.tenantId()).uuid(task.runId()).text(task.stepName()).text(task.workflowName())
                    .text(task.workflowVersion()).text(task.action()).num(task.priority()).text("queued")
                    .num(task.attemptBase()).num(task.attemptBase() + task.maxAttempts()).num(task.slotCost())
                    .num(task.executionTimeoutMs()).text(deadline).num(rank).endRow();
        }
        if (leasedTasks.size() < tasks.size()) {
            tx.copyIn("COPY drover_task (tenant_id, run_id, step_name, workflow_name, workflow_version, action, priority, state,"
                    + " attempt, max_attempts, slot_cost, execution_timeout_ms, schedule_deadline, rank) FROM STDIN", t.bytes());
        }
        Map<String, Long> leasedIds = new HashMap<>();
        if (!leasedTasks.isEmpty()) {
            List<Long> ids = new TaskQueries().insert(tx, leasedTasks, leaseMs, true);
            for (int k = 0; k < ids.size(); k++) {
                leasedIds.put(leasedTasks.get(k).runId() + "/" + leasedTasks.get(k).stepName(), ids.get(k));
            }
        }
        List<Long> leased = new ArrayList<>(tasks.size());
        for (Rows.NewTask task : tasks) {
            leased.add(task.leasedTo() == null ? null : leasedIds.get(task.runId() + "/" + task.stepName()));
        }
        return new Triggered(inserted, leased);
    }

    /** A timestamptz literal for microseconds since the epoch. */
    private static String timestamp(long epochMicros) {
        java.time.Instant i = java.time.Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L),
                Math.floorMod(epochMicros, 1_000_000L) * 1000);
        return i.toString();
    }

    private static String insertSql(List<NewRun> runs) {
        // Sorting by key only matters when keys take locks; 10,000 keyless rows sorted cost ~15% of the insert.
        boolean anyKey = false;
        for (NewRun r : runs) anyKey |= r.idempotencyKey() != null;
        return """
                INSERT INTO drover_run (id, tenant_id, workflow_name, workflow_version, status, input, metadata, priority,
                                        idempotency_key, pending_steps, started_at, parent_run_id, parent_step,
                                        child_index, event_id)
                SELECT u.id, u.tenant, u.name, u.version, CASE WHEN u.started THEN 'running' ELSE 'queued' END,
                       u.input::jsonb, u.meta::jsonb, u.prio, u.key, u.pending, CASE WHEN u.started THEN now() END,
                       u.parent, u.parent_step, u.child_index, u.event
                FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::smallint[], ?::text[], ?::int[],
                            ?::boolean[], ?::uuid[], ?::text[], ?::int[], ?::uuid[])
                     AS u(id, tenant, name, version, input, meta, prio, key, pending, started, parent, parent_step,
                          child_index, event)
                """ + (anyKey ? "ORDER BY u.key NULLS LAST -- concurrent groups take key locks in one order: no deadlock\n" : "")
                + """
                ON CONFLICT DO NOTHING -- an existing idempotency key, or a client-chosen id sent again
                RETURNING id""";
    }

    /** Binds the run insert's arrays from parameter {@code at}; returns the next parameter's index. */
    private static int bindInsert(StoreTx tx, java.sql.PreparedStatement ps, int at, List<NewRun> runs) throws SQLException {
        int n = runs.size();
        Object[] ids = new Object[n], tenants = new Object[n], names = new Object[n], versions = new Object[n],
                inputs = new Object[n], metas = new Object[n], prios = new Object[n], keys = new Object[n],
                pending = new Object[n], started = new Object[n], parents = new Object[n], parentSteps = new Object[n],
                childIdx = new Object[n], events = new Object[n];
        for (int i = 0; i < n; i++) {
            NewRun r = runs.get(i);
            ids[i] = r.id();
            tenants[i] = r.tenantId();
            names[i] = r.workflowName();
            versions[i] = r.workflowVersion();
            inputs[i] = r.inputJson();
            metas[i] = r.metadataJson();
            prios[i] = r.priority();
            keys[i] = r.idempotencyKey();
            pending[i] = r.pendingSteps();
            started[i] = r.started();
            parents[i] = r.parentRunId();
            parentSteps[i] = r.parentStep();
            childIdx[i] = r.childIndex();
            events[i] = r.eventId();
        }
        ps.setArray(at++, tx.array("uuid", ids));
        ps.setArray(at++, tx.array("text", tenants));
        ps.setArray(at++, tx.array("text", names));
        ps.setArray(at++, tx.array("text", versions));
        ps.setArray(at++, tx.array("text", inputs));
        ps.setArray(at++, tx.array("text", metas));
        ps.setArray(at++, tx.array("smallint", prios));
        ps.setArray(at++, tx.array("text", keys));
        ps.setArray(at++, tx.array("int", pending));
        ps.setArray(at++, tx.array("boolean", started));
        ps.setArray(at++, tx.array("uuid", parents));
        ps.setArray(at++, tx.array("text", parentSteps));
        ps.setArray(at++, tx.array("int", childIdx));
        ps.setArray(at++, tx.array("uuid", events));
        return at;
    }

    /**
     * Per run, in order: inserted, or the id of the existing run its key or id names, or a null id when
     * its id is taken by a run of another tenant (which the caller must not see).
     */
    public List<InsertedRun> outcome(StoreTx tx, List<NewRun> runs, Set<UUID> inserted) {
        int n = runs.size();
        List<InsertedRun> out = new ArrayList<>(n);
        Map<String, UUID> existing = null;
        for (NewRun r : runs) {
            if (inserted.contains(r.id())) {
                out.add(new InsertedRun(r.id(), true));
                continue;
            }
            if (existing == null) {
                tx.customPlans(); // a join with drover_run
                existing = byIdempotencyKey(tx, runs);
            }
            UUID id = r.idempotencyKey() == null ? null : existing.get(r.tenantId() + "\u0000" + r.idempotencyKey());
            if (id == null && get(tx, r.tenantId(), r.id()).isPresent()) id = r.id(); // the same id sent again
            out.add(new InsertedRun(id, false));
        }
        return out;
    }

    private Map<String, UUID> byIdempotencyKey(StoreTx tx, List<NewRun> runs) {
        List<Object> tenants = new ArrayList<>(), keys = new ArrayList<>();
        for (NewRun r : runs) {
            if (r.idempotencyKey() != null) {
                tenants.add(r.tenantId());
                keys.add(r.idempotencyKey());
            }
        }
        Map<String, UUID> out = new HashMap<>();
        tx.query("""
                SELECT r.tenant_id, r.idempotency_key, r.id FROM drover_run r
                JOIN unnest(?::text[], ?::text[]) AS u(tenant, key) ON r.tenant_id = u.tenant AND r.idempotency_key = u.key""",
                ps -> {
                    ps.setArray(1, tx.array("text", tenants.toArray()));
                    ps.setArray(2, tx.array("text", keys.toArray()));
                },
                rs -> out.put(rs.getString(1) + "\u0000" + rs.getString(2), rs.getObject(3, UUID.class)));
        return out;
    }

    public Optional<RunRow> get(StoreTx tx, String tenantId, UUID id) {
        return tx.query("SELECT " + COLUMNS + " FROM drover_run WHERE id = ? AND tenant_id = ?",
                ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, tenantId);
                }, RunQueries::row).stream().findFirst();
    }

    /** The run whatever its tenant (for the engine's own bookkeeping), locked when {@code lock}. */
    public Optional<RunRow> byId(StoreTx tx, UUID id, boolean lock) {
        return tx.query("SELECT " + COLUMNS + " FROM drover_run WHERE id = ?" + (lock ? " FOR UPDATE" : ""),
                ps -> ps.setObject(1, id), RunQueries::row).stream().findFirst();
    }

    /** The runs with the given ids, whatever their tenant. */
    public List<RunRow> byIds(StoreTx tx, UUID[] ids) {
        return tx.query("SELECT " + COLUMNS + " FROM drover_run WHERE id = ANY(?)",
                ps -> ps.setArray(1, tx.array("uuid", ids)), RunQueries::row);
    }

    /** How many times the run was replayed (child runs spawned after a replay are new ones). */
    public int replays(StoreTx tx, UUID id) {
        List<Integer> r = tx.query("SELECT replays FROM drover_run WHERE id = ?", ps -> ps.setObject(1, id), rs -> rs.getInt(1));
        return r.isEmpty() ? 0 : r.get(0);
    }

    /** Children of the run that have not finished. */
    public List<UUID> unfinishedChildren(StoreTx tx, UUID parentId) {
        return tx.query("SELECT id FROM drover_run WHERE parent_run_id = ? AND finished_at IS NULL ORDER BY id",
                ps -> ps.setObject(1, parentId), rs -> rs.getObject(1, UUID.class));
    }

    /** Replay: a finished run becomes unfinished again with {@code pendingSteps} steps to go. */
    public void reopen(StoreTx tx, UUID id, int pendingSteps) {
        tx.update("""
                UPDATE drover_run SET status = 'running', finished_at = NULL, error = NULL, output = NULL,
                       pending_steps = ?, replays = replays + 1, started_at = now(),
                       sticky_worker = NULL -- a replay picks its (sticky) worker anew: the old one may be long gone
                 WHERE id = ?""",
                ps -> {
                    ps.setInt(1, pendingSteps);
                    ps.setObject(2, id);
                });
    }

    /** Finished runs matching a replay filter, oldest first. */
    public List<UUID> finishedMatching(StoreTx tx, String tenantId, String workflowName, String status,
                                       java.time.Instant createdAfter, java.time.Instant createdBefore,
                                       String metadataJson, int limit) {
        return tx.query("""
                SELECT id FROM drover_run
                 WHERE tenant_id = ? AND workflow_name = ? AND finished_at IS NOT NULL
                   AND (?::text IS NULL OR status = ?)
                   AND (?::timestamptz IS NULL OR created_at >= ?::timestamptz)
                   AND (?::timestamptz IS NULL OR created_at < ?::timestamptz)
                   AND metadata @> ?::jsonb
                 ORDER BY id LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setString(3, status);
                    ps.setString(4, status);
                    java.sql.Timestamp a = createdAfter == null ? null : java.sql.Timestamp.from(createdAfter);
                    java.sql.Timestamp b = createdBefore == null ? null : java.sql.Timestamp.from(createdBefore);
                    ps.setTimestamp(5, a);
                    ps.setTimestamp(6, a);
                    ps.setTimestamp(7, b);
                    ps.setTimestamp(8, b);
                    ps.setString(9, metadataJson);
                    ps.setInt(10, limit);
                }, rs -> rs.getObject(1, UUID.class));
    }

    /** Newest first; {@code beforeId} pages backwards (ids are time-ordered UUIDv7). */
    public List<RunRow> list(StoreTx tx, String tenantId, String workflowName, String status, UUID beforeId, int limit) {
        return tx.query("SELECT " + COLUMNS + """
                 FROM drover_run
                WHERE tenant_id = ? AND (?::text IS NULL OR workflow_name = ?) AND (?::text IS NULL OR """ + " " + STATUS + """
                 = ?)
                  AND (?::uuid IS NULL OR id < ?::uuid)
                ORDER BY id DESC LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setString(3, workflowName);
                    ps.setString(4, status);
                    ps.setString(5, status);
                    ps.setObject(6, beforeId);
                    ps.setObject(7, beforeId);
                    ps.setInt(8, limit);
                }, RunQueries::row);
    }

    /** Inputs and metadata of the given runs, for the assignments sent to workers. */
    public Map<UUID, RunInput> inputs(StoreTx tx, UUID[] runIds) {
        Map<UUID, RunInput> out = new HashMap<>();
        tx.query("SELECT id, input::text, metadata::text FROM drover_run WHERE id = ANY(?)",
                ps -> ps.setArray(1, tx.array("uuid", runIds)),
                rs -> out.put(rs.getObject(1, UUID.class),
                        new RunInput(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3))));
        return out;
    }

    /** queued → running for the runs whose first step was just assigned. */
    public void markStarted(StoreTx tx, UUID[] runIds) {
        tx.update("UPDATE drover_run SET status = 'running', started_at = now() WHERE id = ANY(?) AND status = 'queued'",
                ps -> ps.setArray(1, tx.array("uuid", runIds)));
    }

    /** The run's first attempt ended (and it goes on): started when that attempt was handed out. */
    public void markStarted(StoreTx tx, UUID runId, java.time.Instant startedAt) {
        tx.update("""
                UPDATE drover_run SET status = 'running', started_at = coalesce(started_at, ?, now())
                 WHERE id = ? AND status = 'queued'""",
                ps -> {
                    ps.setTimestamp(1, startedAt == null ? null : java.sql.Timestamp.from(startedAt));
                    ps.setObject(2, runId);
                });
    }

    /**
     * See {@link #countFinishedSteps}; a constant so that a test can check its plan. The unfinished test
     * is written with {@code OR u.n < 0} (n is never negative) so that it is a condition of the join, not
     * of the scan: as a scan filter its row estimate came from statistics taken when nearly every run had
     * finished (63 of 13,000), and the plan read all unfinished runs once and compared each with every key
     * (a join filter, 818 × 500 pairs): 100–345 ms per batch of 500 in a steady run, instead of a probe
     * of the primary key per key.
     */
    static final String COUNT_FINISHED_STEPS = """
                UPDATE drover_run r
                   SET pending_steps = r.pending_steps - u.n,
                       status = CASE WHEN r.pending_steps - u.n = 0 THEN 'succeeded'
                                     WHEN r.status = 'queued' THEN 'running' ELSE r.status END,
                       started_at = coalesce(r.started_at, CASE WHEN u.started > 0 THEN to_timestamp(u.started / 1000.0) END, now()),
                       finished_at = CASE WHEN r.pending_steps - u.n = 0 THEN now() END,
                       output = CASE WHEN r.pending_steps - u.n = 0 THEN u.output::jsonb END
                  FROM unnest(?::uuid[], ?::int[], ?::text[], ?::bigint[]) AS u(id, n, output, started)
                 WHERE r.id = u.id AND (r.finished_at IS NULL OR u.n < 0)
                RETURNING r.id, r.pending_steps""";

    /**
     * Counts finished steps against each run; a run whose count reaches zero succeeds with the given
     * output (null output for runs with several leaves: see {@link #setOutputFromLeaves}).
     * Returns the ids of the runs that succeeded.
     */
    public List<UUID> countFinishedSteps(StoreTx tx, UUID[] runIds, int[] finished, String[] outputsIfLast, long[] startedMs) {
        Object[] n = new Object[finished.length], started = new Object[finished.length];
        for (int i = 0; i < n.length; i++) {
            n[i] = finished[i];
            started[i] = startedMs[i];
        }
        // A run still 'queued' in its row had its first attempt handed out without touching the row (see
        // STATUS): it started when that attempt was leased (started 0: no attempt, e.g. a skipped step).
        return tx.query(COUNT_FINISHED_STEPS,
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("int", n));
                    ps.setArray(3, tx.array("text", outputsIfLast));
                    ps.setArray(4, tx.array("bigint", started));
                },
                rs -> rs.getInt(2) == 0 ? rs.getObject(1, UUID.class) : null)
                .stream().filter(java.util.Objects::nonNull).toList();
    }

    /** For runs with several leaf steps: the output is an object keyed by leaf step name. */
    public void setOutputFromLeaves(StoreTx tx, UUID runId, String[] leaves) {
        tx.update("""
                UPDATE drover_run SET output = (SELECT jsonb_object_agg(step_name, output) FROM drover_step_run
                                                 WHERE run_id = ? AND step_name = ANY(?))
                 WHERE id = ?""",
                ps -> {
                    ps.setObject(1, runId);
                    ps.setArray(2, tx.array("text", leaves));
                    ps.setObject(3, runId);
                });
    }

    /** Ends an unfinished run as failed or cancelled; false when it had already finished. */
    public boolean finish(StoreTx tx, UUID runId, String status, String error) {
        return tx.update("""
                UPDATE drover_run SET status = ?, error = ?, finished_at = now(), pending_steps = 0,
                       started_at = coalesce(started_at, (SELECT min(t.leased_at) FROM drover_task t
                                                           WHERE t.run_id = drover_run.id AND t.state = 'leased'), now())
                 WHERE id = ? AND finished_at IS NULL""",
                ps -> {
                    ps.setString(1, status);
                    ps.setString(2, error);
                    ps.setObject(3, runId);
                }) == 1;
    }

    /** Runs among the given ones that have finished (for awaiting clients). */
    public List<UUID> finishedAmong(StoreTx tx, UUID[] runIds) {
        return tx.query("SELECT id FROM drover_run WHERE id = ANY(?) AND finished_at IS NOT NULL",
                ps -> ps.setArray(1, tx.array("uuid", runIds)), rs -> rs.getObject(1, UUID.class));
    }

    /**
     * Deletes up to {@code limit} runs finished before the cutoff, with their steps and attempts. In no
     * particular order: the BRIN index on finished_at finds candidates cheaply, and sorting them would
     * mean reading every expired run on each batch when retention has a lot to catch up on.
     */
    public int pruneFinished(StoreTx tx, long olderThanMs, int limit) {
        List<UUID> ids = tx.query("""
                SELECT id FROM drover_run WHERE finished_at < now() - ? * interval '1 millisecond'
                LIMIT ? FOR UPDATE SKIP LOCKED""",
                ps -> {
                    ps.setLong(1, olderThanMs);
                    ps.setInt(2, limit);
                }, rs -> rs.getObject(1, UUID.class));
        if (ids.isEmpty()) return 0;
        UUID[] arr = ids.toArray(UUID[]::new);
        tx.update("DELETE FROM drover_step_attempt WHERE run_id = ANY(?)", ps -> ps.setArray(1, tx.array("uuid", arr)));
        tx.update("DELETE FROM drover_step_run WHERE run_id = ANY(?)", ps -> ps.setArray(1, tx.array("uuid", arr)));
        return tx.update("DELETE FROM drover_run WHERE id = ANY(?)", ps -> ps.setArray(1, tx.array("uuid", arr)));
    }

    private static RunRow row(ResultSet rs) throws SQLException {
        return new RunRow(Sql.uuid(rs, "id"), rs.getString("tenant_id"), rs.getString("workflow_name"),
                rs.getString("workflow_version"), rs.getString("status"), rs.getString("input"), rs.getString("output"),
                rs.getString("error"), rs.getString("metadata"), rs.getInt("priority"), rs.getString("idempotency_key"),
                rs.getInt("pending_steps"), Sql.uuid(rs, "parent_run_id"), rs.getString("parent_step"),
                (Integer) rs.getObject("child_index"), Sql.uuid(rs, "event_id"), Sql.instant(rs, "created_at"),
                Sql.instant(rs, "started_at"), Sql.instant(rs, "finished_at"));
    }
}
