package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.StepFailed;
import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.TaskRow;
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
    /**
     * Up to this many successes are recorded in one statement (one round trip). Bigger batches take
     * the general path's three statements: a burn-down (batches of ~450) spent ~45% more PostgreSQL time
     * per run in the one-statement form (pg_stat_statements, 100,000 runs), and there the round trips
     * are a small share of a batch.
     */
    static final int ONE_STATEMENT_MAX = 64;

    private final EngineStats stats;

    StepReports(Database db, RunProgress progress, WorkerRegistry registry, Engine engine, EngineStats stats) {
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
        Effects fx = failedIdx.isEmpty() && !completedIdx.isEmpty() && completedIdx.size() <= ONE_STATEMENT_MAX
                ? completeSingleSteps(workerId, events, completedIdx, outputs, accepted) : null;
        if (fx == null) fx = db.inTx(tx -> {
            Effects effects = new Effects();
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
                for (TaskRow t : tasks.deleteLeased(tx, workerId, ids, attempts)) {
                    int i = indexByTask.get(t.id());
                    accepted[i] = true;
                    done.add(new RunProgress.Completed(t, outputs.get(i)));
                }
                // The step and run statements of a success reach their rows by key from arrays: with the
                // default costs their plans would hash or scan the history tables (RunProgress switches
                // back before anything else). The task delete stays on default plans: with scans off its
                // plan read the worker's leased tasks per batch through drover_task_worker (46 µs a row).
                tx.keyedPlans();
                progress.succeeded(tx, done, effects);
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
        stats.reportBatches.increment();
        stats.reportEvents.add(n);
        stats.reportNanos.add(System.nanoTime() - t0);
        boolean elsewhere = false;
        for (StepEvent e : events) {
            if (e.getKindCase() != StepEvent.KindCase.STARTED) elsewhere |= !registry.release(workerId, e.getTaskId());
        }
        // The worker's stream lives on another replica: tell it to recount the worker's slots.
        if (elsewhere) engine.announceRelease(workerId);
        engine.apply(fx);
        registry.wakeIfCapacity();
        List<Boolean> out = new ArrayList<>(n);
        for (Boolean b : accepted) out.add(Boolean.TRUE.equals(b));
        return out;
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
        if (!registry.allSingleSteps(workerId, ids)) return null;
        List<TaskQueries.CompletedSingle> done = db.inOneKeyedStatement(tx -> tasks.completeSingleSteps(tx, workerId, ids, attempts, outs));
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
