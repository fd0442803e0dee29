package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.StepFailed;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.Rows.RunInput;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreTx;
import dev.drover.server.store.TaskQueries;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Applies what workers report. A batch of reports is one transaction. Each terminal report is
 * fenced: it counts only if its (task, attempt) is still the current attempt, leased to the reporting
 * worker; otherwise the
 * attempt lost its lease or its run ended, and the report is rejected (accepted=false) and changes nothing.
 */
public final class StepReports {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Database db;
    private final RunProgress progress;
    private final WorkerRegistry registry;
    private final Engine engine;
    private final TaskQueries tasks = new TaskQueries();
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StepReports.class);
    /**
     * Up to this many successes are recorded in one statement (one round trip). Bigger batches take
     * the general path's three statements: a burn-down (batches of ~450) spent ~45% more PostgreSQL time
     * per run in the one-statement form (pg_stat_statements, 100,000 runs), and there the round trips
     * are a small share of a batch.
     */
    static final int ONE_STATEMENT_MAX = 64;
    /**
     * Hand-offs are for a worker with room: a report batch of up to this many events, from a worker with
     * at least half its slots free. A busy worker's reports keep the claim path (the dispatcher's claims
     * run beside the worker's one report stream, which near capacity is the drain's pipeline, and the
     * reads a hand-off adds would lengthen it). Measured at a steady 2,000 DAG runs/s (near this VM's
     * capacity), handing off from every batch made the run latency worse in 5 of 6 pairs; below it,
     * better (bench/README.md, session 12).
     */
    static final int HAND_OFF_MAX = 64;

    private final EngineStats stats;

    private final WorkflowCatalog catalog;
    private final Backlog backlog;

    StepReports(Database db, RunProgress progress, WorkerRegistry registry, Engine engine, EngineStats stats,
                WorkflowCatalog catalog, Backlog backlog) {
        this.catalog = catalog;
        this.backlog = backlog;
        this.stats = stats;
        this.db = db;
        this.progress = progress;
        this.registry = registry;
        this.engine = engine;
    }

    /** Returns, per event and in order, whether it was accepted. */
    public List<Boolean> apply(String workerIdText, List<StepEvent> events) {
        UUID workerId = Ids.parse("worker_id", workerIdText);
        int n = events.size();
        Boolean[] accepted = new Boolean[n];
        List<Integer> completedIdx = new ArrayList<>();
        List<Integer> failedIdx = new ArrayList<>();
        Map<Integer, String> outputs = new HashMap<>();
        for (int i = 0; i < n; i++) {
            StepEvent e = events.get(i);
            switch (e.getKindCase()) {
                // The server marks a step running when it assigns it; a start report is informational.
                case STARTED -> accepted[i] = true;
                case COMPLETED -> {
                    String out = e.getCompleted().getOutputJson();
                    if (out.isEmpty()) out = "null";
                    if (tooLarge(out)) {
                        failedIdx.add(i); // a non-retryable failure, below
                    } else if (validJson(out)) {
                        outputs.put(i, out);
                        completedIdx.add(i);
                    } else {
                        failedIdx.add(i); // treated below as a non-retryable failure
                    }
                }
                case FAILED -> failedIdx.add(i);
                default -> throw EngineException.invalid("events[" + i + "].kind: must be started, completed or failed");
            }
        }
        long t0 = System.nanoTime();
        // Whether the worker has room for hand-offs is judged before its reported slots are freed.
        WorkerSession here = n <= HAND_OFF_MAX ? registry.session(workerId) : null;
        boolean roomForHandOffs = here != null && here.free() * 2 >= here.slots;
        // The reported attempts' slots are free before the transaction: the worker freed them when the
        // steps ended (the SDK does before it reports), and holding them until the report commits made
        // the report's transaction part of every slot's cycle. At a steady 5,000/s with 1,000 slots,
        // runs waited up to seconds for a slot that way (bench/README.md, session 16). A report that
        // then fails leaves its task leased, as before: the SDK sends it again, or the lease expires.
        // Whether the successes are all single-step runs' is known only while the session still holds
        // their tasks, so it is asked before the release below forgets them. (81aeaea released first,
        // and every report took the general transaction's six round trips instead of one statement.)
        boolean oneStatement = failedIdx.isEmpty() && !completedIdx.isEmpty() && completedIdx.size() <= ONE_STATEMENT_MAX
                && registry.allSingleSteps(workerId, taskIds(events, completedIdx));
        boolean elsewhere = release(workerId, events);
        Effects fx = oneStatement ? completeSingleSteps(workerId, events, completedIdx, outputs, accepted) : null;
        Effects[] attempt = new Effects[1];
        // The steps a success makes ready go back to the reporting worker when it has room (hand-off).
        WorkerSession handOffTo = fx == null && roomForHandOffs ? here : null;
        if (fx == null) try {
            fx = db.inTx(tx -> {
                if (attempt[0] != null) attempt[0].undoHandOffs(); // a retried transaction starts over
                Effects effects = new Effects();
                attempt[0] = effects;
                for (int i : completedIdx) accepted[i] = false;
                for (int i : failedIdx) accepted[i] = false;
                if (!completedIdx.isEmpty()) {
                    Long[] ids = new Long[completedIdx.size()];
                    Integer[] attempts = new Integer[completedIdx.size()];
                    Map<Long, Integer> indexByTask = new HashMap<>();
                    for (int k = 0; k < ids.length; k++) {
                        StepEvent e = events.get(completedIdx.get(k));
                        ids[k] = e.getTaskId();
                        attempts[k] = e.getAttempt();
                        indexByTask.put(e.getTaskId(), completedIdx.get(k));
                    }
                    List<RunProgress.Completed> done = new ArrayList<>();
                    // The task delete and the step and run statements of a success reach their rows by key
                    // from arrays: with the default costs their plans would hash or scan the tables
                    // (RunProgress switches back before anything else).
                    tx.keyedPlans();
                    for (TaskRow t : tasks.deleteLeased(tx, workerId, ids, attempts)) {
                        int i = indexByTask.get(t.id());
                        accepted[i] = true;
                        done.add(new RunProgress.Completed(t, outputs.get(i)));
                    }
                    effects.handOffTo = handOffTo;
                    effects.handOffLeaseMs = engine.settings().leaseTimeout().toMillis();
                    effects.handingOff = true;
                    progress.succeeded(tx, done, effects);
                    effects.handingOff = false; // what the failures below queue waits its turn (backoff, order)
                    if (!effects.handOffs.isEmpty()) {
                        tx.keyedPlans(); // the reads below are by key; a gate on the way may have switched back
                        handOffStarts(tx, effects);
                    }
                }
                if (!failedIdx.isEmpty()) tx.customPlans();
                for (int i : failedIdx) {
                    StepEvent e = events.get(i);
                    Optional<TaskRow> t = tasks.lockLeased(tx, workerId, e.getTaskId(), e.getAttempt());
                    if (t.isEmpty()) continue;
                    accepted[i] = true;
                    progress.failed(tx, t.get(), failure(e), effects);
                }
                return effects;
            });
        } catch (RuntimeException e) {
            if (attempt[0] != null) attempt[0].undoHandOffs();
            throw e;
        }
        stats.reportBatches.increment();
        stats.reportEvents.add(n);
        stats.reportNanos.add(System.nanoTime() - t0);
        if (!fx.handOffs.isEmpty()) sendHandOffs(fx);
        // The worker's stream lives on another replica: tell it to recount the worker's slots.
        if (elsewhere) engine.announceRelease(workerId);
        engine.apply(fx);
        registry.wakeIfCapacity();
        List<Boolean> out = new ArrayList<>(n);
        for (Boolean b : accepted) out.add(Boolean.TRUE.equals(b));
        return out;
    }

    /** Frees the slots of the reported attempts; true when the worker's stream is held by another replica. */
    private static Long[] taskIds(List<StepEvent> events, List<Integer> idx) {
        Long[] ids = new Long[idx.size()];
        for (int k = 0; k < ids.length; k++) ids[k] = events.get(idx.get(k)).getTaskId();
        return ids;
    }

    private boolean release(UUID workerId, List<StepEvent> events) {
        boolean elsewhere = false;
        for (StepEvent e : events) {
            if (e.getKindCase() != StepEvent.KindCase.STARTED) elsewhere |= !registry.release(workerId, e.getTaskId());
        }
        return elsewhere;
    }

    /**
     * What the handed-off steps are sent as: the run's input and metadata and the parents' outputs,
     * read by key in the reports' transaction (the claim would read the same).
     */
    private void handOffStarts(StoreTx tx, Effects fx) {
        List<UUID> runIds = new ArrayList<>();
        List<UUID> parentRuns = new ArrayList<>();
        List<String> parentSteps = new ArrayList<>();
        List<StepDefinition> defs = new ArrayList<>(fx.handOffs.size());
        for (Effects.HandOff h : fx.handOffs) {
            NewTask t = h.task();
            StepDefinition def = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion()).step(t.stepName());
            defs.add(def);
            runIds.add(t.runId());
            for (String p : def.getParentsList()) {
                parentRuns.add(t.runId());
                parentSteps.add(p);
            }
        }
        Map<UUID, RunInput> inputs = runs.inputs(tx, runIds.stream().distinct().toArray(UUID[]::new));
        Map<UUID, Map<String, String>> parentOutputs = parentRuns.isEmpty() ? Map.of()
                : steps.outputs(tx, parentRuns.toArray(UUID[]::new), parentSteps.toArray(String[]::new));
        for (int k = 0; k < fx.handOffs.size(); k++) {
            Effects.HandOff h = fx.handOffs.get(k);
            NewTask t = h.task();
            RunInput in = inputs.get(t.runId());
            StartStep.Builder b = StartStep.newBuilder()
                    .setTaskId(h.taskId()).setAttempt(t.attemptBase() + 1).setRunId(t.runId().toString())
                    .setWorkflowName(t.workflowName()).setWorkflowVersion(t.workflowVersion()).setStepName(t.stepName())
                    .setInputJson(in == null || in.inputJson() == null ? "null" : in.inputJson())
                    .setExecutionTimeoutMs(t.executionTimeoutMs()).setMaxAttempts(t.maxAttempts())
                    .setSlotCost(t.slotCost());
            Map<String, String> po = parentOutputs.get(t.runId());
            if (po != null) {
                for (String p : defs.get(k).getParentsList()) if (po.containsKey(p)) b.putParentOutputsJson(p, po.get(p));
            }
            if (in != null) b.putAllMetadata(Dispatcher.metadata(in.metadataJson()));
            fx.handOffStarts.add(b.build());
        }
    }

    /** After commit: the handed-off steps go to their worker; what cannot be sent goes back to the queue. */
    private void sendHandOffs(Effects fx) {
        WorkerSession s = fx.handOffTo;
        for (Effects.HandOff h : fx.handOffs) s.bind(h.taskId(), h.task().slotCost(), false);
        fx.handOffReserved = 0;
        stats.handedOff.add(fx.handOffs.size());
        List<Long> unsent = Dispatch.send(s, fx.handOffStarts);
        if (unsent.isEmpty()) return;
        log.info("Worker {} went away; giving back {} handed-off tasks", s.id, unsent.size());
        for (Effects.HandOff h : fx.handOffs) backlog.mark(h.task().tenantId(), h.task().action());
        fx.workQueued = true;
        Dispatch.giveBack(db, unsent);
    }

    /**
     * The common case, all successes of single-step runs whose attempts this server handed out: one
     * autocommitted statement records them all (one round trip instead of four). Null when the batch
     * is anything else; then the general path runs.
     */
    private Effects completeSingleSteps(UUID workerId, List<StepEvent> events, List<Integer> completedIdx,
                                        Map<Integer, String> outputs, Boolean[] accepted) {
        int m = completedIdx.size();
        Long[] ids = new Long[m];
        Integer[] attempts = new Integer[m];
        String[] outs = new String[m];
        Map<Long, Integer> indexByTask = new HashMap<>();
        for (int k = 0; k < m; k++) {
            int i = completedIdx.get(k);
            StepEvent e = events.get(i);
            ids[k] = e.getTaskId();
            attempts[k] = e.getAttempt();
            outs[k] = outputs.get(i);
            if (indexByTask.put(e.getTaskId(), i) != null) return null; // the same task twice: let the general path sort it out
        }
        List<TaskQueries.CompletedSingle> done = db.inOneKeyedStatement(tx -> tasks.completeSingleSteps(tx, workerId, ids, attempts, outs));
        stats.oneStatementReports.add(m);
        Effects fx = new Effects();
        for (int i : completedIdx) accepted[i] = false;
        for (TaskQueries.CompletedSingle c : done) {
            accepted[indexByTask.get(c.taskId())] = true;
            if (c.runFinished()) fx.finishedRuns.add(c.runId());
        }
        return fx;
    }

    private boolean tooLarge(String json) {
        try {
            Runs.checkSize("output_json", json, engine.settings().maxPayloadBytes());
            return false;
        } catch (EngineException e) {
            return true;
        }
    }

    private RunProgress.Failure failure(StepEvent e) {
        if (e.getKindCase() == StepEvent.KindCase.COMPLETED) {
            String out = e.getCompleted().getOutputJson();
            if (tooLarge(out)) {
                return new RunProgress.Failure("failed", "the step's output is larger than the limit of "
                        + engine.settings().maxPayloadBytes() + " bytes (DROVER_MAX_PAYLOAD)", "OutputTooLarge", null, true);
            }
            return new RunProgress.Failure("failed", "the step's output is not valid JSON", "InvalidOutput", null, true);
        }
        StepFailed f = e.getFailed();
        String status = f.getTimedOut() ? "timed_out" : f.getCancelled() ? "cancelled" : "failed";
        return new RunProgress.Failure(status, f.getErrorMessage(), f.getErrorType(), f.getStackTrace(), f.getNonRetryable());
    }

    private static boolean validJson(String s) {
        return JsonText.isValid(s);
    }
}
