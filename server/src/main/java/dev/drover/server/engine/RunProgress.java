package dev.drover.server.engine;

import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.store.Rows.AttemptRow;
import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.Rows.RunKey;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreTx;
import dev.drover.server.store.TaskQueries;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The state machine of runs and steps, inside a transaction: what happens when attempts succeed or
 * fail, and when a run is failed or cancelled. Every path through here is the only path for its
 * transition, whoever triggers it (a worker's report, the lease reaper, a timeout, an operator).
 *
 * <pre>
 * step:  pending ──parents done──▶ queued ──claimed──▶ running ──▶ succeeded
 *                                     ▲                   │
 *                                     └──retry (backoff)──┤──no attempts left / non-retryable──▶ failed
 * run:   queued ──first step claimed──▶ running ──all steps succeeded──▶ succeeded
 *                                          └──a step failed──▶ failed      (any unfinished) ──cancel──▶ cancelled
 * </pre>
 */
final class RunProgress {
    private final WorkflowCatalog catalog;
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private final TaskQueries tasks = new TaskQueries();

    private final Backlog backlog;

    RunProgress(WorkflowCatalog catalog, Backlog backlog) {
        this.catalog = catalog;
        this.backlog = backlog;
    }

    record Completed(TaskRow task, String outputJson) {}

    /** How an attempt ended badly. {@code status} is one of failed, timed_out, lost, cancelled. */
    record Failure(String status, String message, String errorType, String stackTrace, boolean nonRetryable) {}

    /** Records succeeded attempts (their tasks already deleted), queues children that became ready, finishes runs. */
    void succeeded(StoreTx tx, List<Completed> done, Effects fx) {
        if (done.isEmpty()) return;
        int n = done.size();
        UUID[] runIds = new UUID[n];
        String[] names = new String[n], outputs = new String[n];
        Map<RunKey, Integer> childCounts = new LinkedHashMap<>();
        Map<UUID, Integer> finishedPerRun = new LinkedHashMap<>();
        Map<UUID, String> lastOutput = new HashMap<>();
        Map<UUID, TaskRow> anyTaskOfRun = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Completed c = done.get(i);
            TaskRow t = c.task();
            runIds[i] = t.runId();
            names[i] = t.stepName();
            outputs[i] = c.outputJson();
            Dag dag = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion());
            for (String child : dag.children(t.stepName())) childCounts.merge(new RunKey(t.runId(), child), 1, Integer::sum);
            finishedPerRun.merge(t.runId(), 1, Integer::sum);
            anyTaskOfRun.put(t.runId(), t);
            if (dag.leaves().size() == 1 && dag.leaves().get(0).equals(t.stepName())) lastOutput.put(t.runId(), c.outputJson());
        }
        steps.markSucceeded(tx, runIds, names, outputs);

        if (!childCounts.isEmpty()) {
            int m = childCounts.size();
            UUID[] cr = new UUID[m];
            String[] cs = new String[m];
            int[] cn = new int[m];
            int i = 0;
            for (var e : childCounts.entrySet()) {
                cr[i] = e.getKey().runId();
                cs[i] = e.getKey().stepName();
                cn[i++] = e.getValue();
            }
            List<RunKey> ready = steps.countSucceededParents(tx, cr, cs, cn);
            if (!ready.isEmpty()) {
                List<NewTask> newTasks = new ArrayList<>(ready.size());
                for (RunKey k : ready) {
                    TaskRow parent = anyTaskOfRun.get(k.runId());
                    Dag dag = catalog.resolve(parent.tenantId(), parent.workflowName(), parent.workflowVersion());
                    newTasks.add(newTask(parent.tenantId(), k.runId(), dag, dag.step(k.stepName()), parent.priority()));
                }
                tasks.insert(tx, newTasks, 0);
                for (NewTask t : newTasks) backlog.mark(t.tenantId(), t.action());
                fx.workQueued = true;
            }
        }

        int r = finishedPerRun.size();
        UUID[] fr = new UUID[r];
        int[] fn = new int[r];
        String[] fo = new String[r];
        int i = 0;
        for (var e : finishedPerRun.entrySet()) {
            fr[i] = e.getKey();
            fn[i] = e.getValue();
            fo[i++] = lastOutput.get(e.getKey());
        }
        for (UUID runId : runs.countFinishedSteps(tx, fr, fn, fo)) {
            TaskRow t = anyTaskOfRun.get(runId);
            Dag dag = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion());
            if (dag.leaves().size() > 1) runs.setOutputFromLeaves(tx, runId, dag.leaves().toArray(String[]::new));
            fx.finishedRuns.add(runId);
        }
    }

    /** An attempt of a (locked, current) task failed: retry it after a backoff, or fail the step and its run. */
    void failed(StoreTx tx, TaskRow task, Failure f, Effects fx) {
        steps.insertAttempt(tx, new AttemptRow(task.runId(), task.stepName(), task.attempt(), f.status(),
                truncate(f.message(), 8000), f.errorType(), truncate(f.stackTrace(), 32000), task.workerId(), null));
        Dag dag = catalog.resolve(task.tenantId(), task.workflowName(), task.workflowVersion());
        StepDefinition def = dag.step(task.stepName());
        String error = describe(f, task);
        if (!f.nonRetryable() && task.attempt() < task.maxAttempts()) {
            // A lost lease says nothing about the step itself: hand it to another worker at once.
            long delay = "lost".equals(f.status()) || def == null ? 0 : Backoff.delayMs(def.getRetry(), task.attempt());
            tasks.requeue(tx, task.id(), delay);
            backlog.mark(task.tenantId(), task.workflowName() + "/" + task.stepName());
            steps.markRetrying(tx, task.runId(), task.stepName(), error);
            fx.workQueued = true;
        } else {
            tasks.delete(tx, task.id());
            steps.markFailed(tx, task.runId(), task.stepName(), error);
            endRun(tx, task.runId(), "failed", task.stepName() + ": " + error, fx);
        }
    }

    /** Ends an unfinished run: cancels its unfinished steps and stops its running attempts. False if already finished. */
    boolean endRun(StoreTx tx, UUID runId, String status, String error, Effects fx) {
        if (!runs.finish(tx, runId, status, error)) return false;
        steps.cancelUnfinished(tx, runId);
        for (TaskRow t : tasks.deleteForRun(tx, runId)) fx.stop(t, "run " + status);
        fx.finishedRuns.add(runId);
        return true;
    }

    static NewTask newTask(String tenantId, UUID runId, Dag dag, StepDefinition s, int runPriority) {
        int priority = s.getPriority() != 0 ? s.getPriority() : runPriority;
        return new NewTask(tenantId, runId, s.getName(), dag.name(), dag.version(), priority, Dag.maxAttempts(s),
                Dag.slotCost(s), s.getExecutionTimeoutMs(), s.getScheduleToStartTimeoutMs(), null);
    }

    private static String describe(Failure f, TaskRow task) {
        String msg = f.message() == null || f.message().isBlank() ? "(no message)" : f.message();
        String prefix = switch (f.status()) {
            case "timed_out" -> "timed out: ";
            case "lost" -> "lost: ";
            case "cancelled" -> "cancelled: ";
            default -> f.errorType() == null || f.errorType().isBlank() ? "" : f.errorType() + ": ";
        };
        return truncate(prefix + msg + " (attempt " + task.attempt() + " of " + task.maxAttempts() + ")", 8000);
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max) + "…";
    }
}
