package dev.drover.server.engine;

import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.store.Rows.AttemptRow;
import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.Rows.RunKey;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.Rows.EndedWait;
import dev.drover.server.store.Rows.ReadyStep;
import dev.drover.server.store.Rows.RunRow;
import dev.drover.server.store.WaitQueries;
import dev.drover.proto.v1.WaitCondition;
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
 *                  │                  ▲                   │
 *                  ├─wait─▶ waiting ──┤                   │
 *                  │   (sleep / event; no slot held)      │
 *                  ├─skip_if holds─▶ skipped (counts as done)
 *                                     └──retry (backoff)──┤──no attempts left / non-retryable──▶ failed
 * run:   queued ──first step claimed──▶ running ──all steps succeeded──▶ succeeded
 *                                          └──a step failed──▶ failed      (any unfinished) ──cancel──▶ cancelled
 * </pre>
 *
 * "Running" is what people read, not what the claim stores: the claim writes only the task row, and a
 * queued step (run) with a leased task reads as running; the rows catch up when an attempt ends.
 *
 * A failed run queues its on-failure step (if the workflow names one); failing or cancelling a run
 * cancels its unfinished child runs.
 */
final class RunProgress {
    private final WorkflowCatalog catalog;
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private final TaskQueries tasks = new TaskQueries();
    private final WaitQueries waits = new WaitQueries();

    private final Backlog backlog;

    private final Gate gate;

    RunProgress(WorkflowCatalog catalog, Backlog backlog, Gate gate) {
        this.catalog = catalog;
        this.backlog = backlog;
        this.gate = gate;
        gate.progress(this);
    }

    record Completed(TaskRow task, String outputJson) {}

    /** How an attempt ended badly. {@code status} is one of failed, timed_out, lost, cancelled. */
    record Failure(String status, String message, String errorType, String stackTrace, boolean nonRetryable) {}

    /** A step that finished well (succeeded or skipped), wherever it ran. */
    record Done(String tenantId, UUID runId, String workflowName, String workflowVersion, int priority, String stepName,
                String outputJson, long startedMs) {
        static Done of(TaskRow t, String outputJson) {
            return new Done(t.tenantId(), t.runId(), t.workflowName(), t.workflowVersion(), t.priority(), t.stepName(), outputJson,
                    t.leasedAtMs());
        }
    }

    /** A step whose parents are done: it is skipped, waits, or goes to the queue (see {@link #ready}). */
    record Ready(String tenantId, UUID runId, Dag dag, String stepName, int priority, int attemptBase,
                 boolean stepAdmitted, long rankAt) {
        Ready(String tenantId, UUID runId, Dag dag, String stepName, int priority, int attemptBase) {
            this(tenantId, runId, dag, stepName, priority, attemptBase, false, 0);
        }
    }

    Gate gate() {
        return gate;
    }

    /** Records succeeded attempts (their tasks already deleted), queues children that became ready, finishes runs. */
    void succeeded(StoreTx tx, List<Completed> done, Effects fx) {
        if (done.isEmpty()) return;
        int n = done.size();
        UUID[] runIds = new UUID[n];
        String[] names = new String[n], outputs = new String[n];
        Integer[] attempts = new Integer[n];
        UUID[] workers = new UUID[n];
        Long[] started = new Long[n];
        List<Done> dones = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Completed c = done.get(i);
            runIds[i] = c.task().runId();
            names[i] = c.task().stepName();
            outputs[i] = c.outputJson();
            attempts[i] = c.task().attempt();
            workers[i] = c.task().workerId();
            started[i] = c.task().leasedAtMs();
            dones.add(Done.of(c.task(), c.outputJson()));
        }
        steps.markSucceeded(tx, runIds, names, outputs, attempts, workers, started);
        advance(tx, dones, fx);
    }

    /**
     * Counts finished steps down: children whose parents are all done become ready, runs whose steps
     * are all done succeed. The on-failure step is outside the count (its run is already final).
     */
    void advance(StoreTx tx, List<Done> dones, Effects fx) {
        Map<RunKey, Integer> childCounts = new LinkedHashMap<>();
        Map<UUID, Integer> finishedPerRun = new LinkedHashMap<>();
        Map<UUID, String> lastOutput = new HashMap<>();
        Map<UUID, Done> anyOfRun = new HashMap<>();
        Map<UUID, Long> startedOfRun = new HashMap<>();
        for (Done d : dones) {
            Dag dag = catalog.resolve(d.tenantId(), d.workflowName(), d.workflowVersion());
            StepDefinition def = dag.step(d.stepName());
            if (def != null && def.getConcurrencyCount() > 0) {
                tx.customPlans(); // the gate's tables are read by group, not by key
                gate.stepFinished(tx, d.runId(), d.stepName(), fx);
            }
            for (String child : dag.children(d.stepName())) childCounts.merge(new RunKey(d.runId(), child), 1, Integer::sum);
            finishedPerRun.merge(d.runId(), 1, Integer::sum);
            anyOfRun.put(d.runId(), d);
            if (d.startedMs() > 0) startedOfRun.merge(d.runId(), d.startedMs(), Math::min);
            if (dag.leaves().size() == 1 && dag.leaves().get(0).equals(d.stepName())) {
                lastOutput.put(d.runId(), d.outputJson() == null ? "null" : d.outputJson());
            }
        }

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
            List<ReadyStep> readySteps = steps.countSucceededParents(tx, cr, cs, cn);
            if (!readySteps.isEmpty()) {
                List<Ready> ready = new ArrayList<>(readySteps.size());
                for (ReadyStep k : readySteps) {
                    Done parent = anyOfRun.get(k.runId());
                    Dag dag = catalog.resolve(parent.tenantId(), parent.workflowName(), parent.workflowVersion());
                    ready.add(new Ready(parent.tenantId(), k.runId(), dag, k.stepName(), parent.priority(), k.attempts()));
                }
                ready(tx, ready, fx);
            }
        }

        // Skipped steps may already have finished some of these runs inside ready(): the count only
        // touches unfinished runs, so nothing is counted twice.
        int r = finishedPerRun.size();
        UUID[] fr = new UUID[r];
        int[] fn = new int[r];
        String[] fo = new String[r];
        long[] fs = new long[r];
        int i = 0;
        for (var e : finishedPerRun.entrySet()) {
            fr[i] = e.getKey();
            fn[i] = e.getValue();
            fs[i] = startedOfRun.getOrDefault(e.getKey(), 0L);
            fo[i++] = lastOutput.get(e.getKey());
        }
        List<UUID> gated = new ArrayList<>();
        for (UUID runId : runs.countFinishedSteps(tx, fr, fn, fo, fs)) {
            Done d = anyOfRun.get(runId);
            Dag dag = catalog.resolve(d.tenantId(), d.workflowName(), d.workflowVersion());
            if (dag.leaves().size() > 1) runs.setOutputFromLeaves(tx, runId, dag.leaves().toArray(String[]::new));
            fx.finishedRuns.add(runId);
            if (dag.hasConcurrency()) gated.add(runId);
        }
        if (!gated.isEmpty()) {
            tx.customPlans();
            gate.runsFinished(tx, gated.toArray(UUID[]::new), fx);
        }
    }

    /**
     * Steps whose parents are done (status queued in the table): a step whose skip condition holds is
     * skipped (and counts as done at once), a step with a wait begins it (no task, no slot), every
     * other step gets its task in the queue.
     */
    void ready(StoreTx tx, List<Ready> ready, Effects fx) {
        if (ready.isEmpty()) return;
        List<Ready> queued = new ArrayList<>();
        List<Ready> conditional = new ArrayList<>();
        List<Ready> waiting = new ArrayList<>();
        for (Ready r : ready) {
            StepDefinition def = r.dag().step(r.stepName());
            if (Dag.plain(def)) queued.add(r);
            else if (!def.getSkipIf().isEmpty()) conditional.add(r);
            else waiting.add(r);
        }
        // Plain steps only get tasks (keyed); conditions and waits read and write more: default plans.
        if (!conditional.isEmpty() || !waiting.isEmpty()) tx.customPlans();
        List<Done> skipped = new ArrayList<>();
        if (!conditional.isEmpty()) {
            Map<UUID, String> inputs = new HashMap<>();
            UUID[] ids = conditional.stream().map(Ready::runId).distinct().toArray(UUID[]::new);
            runs.inputs(tx, ids).forEach((id, in) -> inputs.put(id, in.inputJson()));
            Map<UUID, Map<String, String>> outputs = parentOutputs(tx, conditional);
            for (Ready r : conditional) {
                StepDefinition def = r.dag().step(r.stepName());
                boolean skip = Expressions.compile("skip_if", def.getSkipIf(), Dag.STEP_VARIABLES)
                        .test(Map.of("input", inputs.getOrDefault(r.runId(), "{}"),
                                "parents", parentsJson(outputs.get(r.runId()), def)));
                if (skip) {
                    skipped.add(new Done(r.tenantId(), r.runId(), r.dag().name(), r.dag().version(), r.priority(), r.stepName(), null, 0));
                } else if (def.hasWait()) {
                    waiting.add(r);
                } else {
                    queued.add(r);
                }
            }
        }
        if (!waiting.isEmpty()) {
            List<WaitQueries.NewWait> rows = new ArrayList<>(waiting.size());
            for (Ready r : waiting) {
                WaitCondition w = r.dag().step(r.stepName()).getWait();
                rows.add(new WaitQueries.NewWait(r.runId(), r.stepName(), r.tenantId(), w.getSleepMs(),
                        w.getEvent().isEmpty() ? null : w.getEvent(), w.getMatch().isEmpty() ? null : w.getMatch(),
                        w.getTimeoutMs(), w.getOnTimeout().isEmpty() ? "fail" : w.getOnTimeout()));
            }
            waits.insert(tx, rows);
            steps.setStatus(tx, waiting.stream().map(Ready::runId).toArray(UUID[]::new),
                    waiting.stream().map(Ready::stepName).toArray(String[]::new), "waiting");
            runs.markStarted(tx, waiting.stream().map(Ready::runId).distinct().toArray(UUID[]::new));
        }
        enqueue(tx, queued, fx);
        if (!skipped.isEmpty()) {
            steps.setStatus(tx, skipped.stream().map(Done::runId).toArray(UUID[]::new),
                    skipped.stream().map(Done::stepName).toArray(String[]::new), "skipped");
            runs.markStarted(tx, skipped.stream().map(Done::runId).distinct().toArray(UUID[]::new));
            advance(tx, skipped, fx);
        }
    }

    /**
     * Steps that passed their skip condition and wait: each goes to the worker queue, unless its
     * step-level concurrency gate holds it back (it then waits there, holding no slot) or cancels its run.
     */
    void enqueue(StoreTx tx, List<Ready> ready, Effects fx) {
        if (ready.isEmpty()) return;
        List<NewTask> queued = new ArrayList<>(ready.size());
        Map<String, List<Ready>> gatedByTenant = new LinkedHashMap<>();
        for (Ready r : ready) {
            StepDefinition def = r.dag().step(r.stepName());
            if (r.stepAdmitted() || def.getConcurrencyCount() == 0) {
                queued.add(newTask(r));
            } else {
                gatedByTenant.computeIfAbsent(r.tenantId(), t -> new ArrayList<>()).add(r);
            }
        }
        if (!gatedByTenant.isEmpty()) tx.customPlans();
        for (var e : gatedByTenant.entrySet()) {
            List<Ready> gated = e.getValue();
            Map<UUID, String> in = new HashMap<>();
            runs.inputs(tx, gated.stream().map(Ready::runId).distinct().toArray(UUID[]::new))
                    .forEach((id, ri) -> in.put(id, ri.inputJson()));
            List<Gate.Arrival> arrivals = new ArrayList<>(gated.size());
            for (Ready r : gated) {
                arrivals.add(new Gate.Arrival(r.tenantId(), r.runId(), r.stepName(),
                        Gate.stepGroups(r.dag(), r.dag().step(r.stepName()), in.getOrDefault(r.runId(), "{}"))));
            }
            List<GatePolicy.Outcome> outcomes = gate.arrive(tx, arrivals, fx);
            for (int i = 0; i < gated.size(); i++) {
                Ready r = gated.get(i);
                switch (outcomes.get(i)) {
                    case ADMIT -> queued.add(newTask(r));
                    case WAIT -> { } // stays queued without a task until the gate lets it in
                    case CANCEL -> endRun(tx, r.runId(), "cancelled", r.stepName()
                            + ": concurrency limit reached (cancel_newest)", fx);
                }
            }
        }
        if (queued.isEmpty()) return;
        WorkerSession to = fx.handOffTo;
        if (to != null && fx.handingOff) {
            for (int i = 0; i < queued.size(); i++) {
                NewTask t = queued.get(i);
                if (handOffAllowed(to, t) && to.reserve(t.slotCost())) {
                    fx.handOffReserved += t.slotCost();
                    queued.set(i, t.leasedTo(to.id));
                }
            }
        }
        List<Long> ids = tasks.insert(tx, queued, fx.handingOff ? fx.handOffLeaseMs : 0);
        for (int i = 0; i < queued.size(); i++) {
            NewTask t = queued.get(i);
            if (t.leasedTo() != null) {
                fx.handOffs.add(new Effects.HandOff(t, ids.get(i)));
            } else {
                backlog.mark(t.tenantId(), t.action());
                fx.workQueued = true;
            }
        }
    }

    /**
     * Whether a step made ready by a worker's report may go straight back to that worker, leased in the
     * same transaction (no claim): the claim's own decisions must not apply to it (affinity, rate limits,
     * step concurrency), and no older work of its action may be waiting in the queue (it would overtake it).
     */
    private boolean handOffAllowed(WorkerSession to, NewTask t) {
        if (t.affinity() != null || !to.open || !to.accepting() || !to.tenantId.equals(t.tenantId())
                || !to.actionSet.contains(t.action()) || backlog.has(t.tenantId(), t.action())) return false;
        StepDefinition def = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion()).step(t.stepName());
        return def != null && def.getRateLimitsCount() == 0 && def.getConcurrencyCount() == 0;
    }

    /** Waits that ended well (slept out, event received, or timed out with "continue"): their steps are queued. */
    void waitsEnded(StoreTx tx, List<EndedWait> ended, Effects fx) {
        if (ended.isEmpty()) return;
        List<Ready> queued = new ArrayList<>(ended.size());
        for (EndedWait w : ended) {
            Dag dag = catalog.resolve(w.tenantId(), w.workflowName(), w.workflowVersion());
            queued.add(new Ready(w.tenantId(), w.runId(), dag, w.stepName(), w.priority(), w.attempts()));
        }
        steps.setStatus(tx, ended.stream().map(EndedWait::runId).toArray(UUID[]::new),
                ended.stream().map(EndedWait::stepName).toArray(String[]::new), "queued");
        enqueue(tx, queued, fx);
    }

    /** A step that cannot go on without running (a wait timed out with "fail"): it fails, and so does its run. */
    void failWaitingStep(StoreTx tx, UUID runId, String step, String error, int attempts, Effects fx) {
        steps.markFailed(tx, runId, step, error);
        endRun(tx, runId, "failed", step + ": " + error, fx, new FailureNote(step, error, attempts));
    }

    /** Outputs of the parents of the given steps, by run then parent name. */
    private Map<UUID, Map<String, String>> parentOutputs(StoreTx tx, List<Ready> ready) {
        List<UUID> ids = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Ready r : ready) {
            for (String p : r.dag().step(r.stepName()).getParentsList()) {
                ids.add(r.runId());
                names.add(p);
            }
        }
        return ids.isEmpty() ? Map.of() : steps.outputs(tx, ids.toArray(UUID[]::new), names.toArray(String[]::new));
    }

    /** {"parentName": output, ...} as JSON text. */
    static String parentsJson(Map<String, String> outputs, StepDefinition def) {
        StringBuilder b = new StringBuilder("{");
        for (String p : def.getParentsList()) {
            if (b.length() > 1) b.append(',');
            b.append(JsonText.quote(p)).append(':').append(outputs == null ? "null" : outputs.getOrDefault(p, "null"));
        }
        return b.append('}').toString();
    }

    /** An attempt of a (locked, current) task failed: retry it after a backoff, or fail the step and its run. */
    void failed(StoreTx tx, TaskRow task, Failure f, Effects fx) {
        steps.insertAttempt(tx, new AttemptRow(task.runId(), task.stepName(), task.attempt(), f.status(),
                truncate(f.message(), 8000), f.errorType(), truncate(f.stackTrace(), 32000), task.workerId(), null));
        Dag dag = catalog.resolve(task.tenantId(), task.workflowName(), task.workflowVersion());
        StepDefinition def = dag.step(task.stepName());
        String error = describe(f, task);
        // The claim left the run row alone (see RunQueries): its first ended attempt records that it started.
        runs.markStarted(tx, task.runId(), task.leasedAt());
        if (!f.nonRetryable() && task.attempt() < task.maxAttempts()) {
            // A lost lease says nothing about the step itself: hand it to another worker at once.
            long delay = "lost".equals(f.status()) || def == null ? 0 : Backoff.delayMs(def.getRetry(), task.attempt());
            tasks.requeue(tx, task.id(), delay);
            backlog.mark(task.tenantId(), task.workflowName() + "/" + task.stepName());
            steps.markRetrying(tx, task, error);
            fx.workQueued = true;
        } else {
            tasks.delete(tx, task.id());
            steps.markFailed(tx, task, error);
            endRun(tx, task.runId(), "failed", task.stepName() + ": " + error, fx,
                    new FailureNote(task.stepName(), error, task.attempt()));
        }
    }

    /** What an on-failure step is told about the failure. */
    record FailureNote(String failedStep, String error, int attempts) {}

    /** Ends an unfinished run: cancels its unfinished steps and stops its running attempts. False if already finished. */
    boolean endRun(StoreTx tx, UUID runId, String status, String error, Effects fx) {
        return endRun(tx, runId, status, error, fx, null);
    }

    /**
     * Ends an unfinished run as failed or cancelled: cancels its unfinished steps and waits, stops its
     * running attempts, cancels its unfinished child runs, and (failed) queues its on-failure step.
     * False if it had already finished.
     */
    boolean endRun(StoreTx tx, UUID runId, String status, String error, Effects fx, FailureNote note) {
        if (!runs.finish(tx, runId, status, error)) return false;
        steps.cancelUnfinished(tx, runId);
        waits.deleteForRun(tx, runId);
        for (TaskRow t : tasks.deleteForRun(tx, runId)) fx.stop(t, "run " + status);
        fx.finishedRuns.add(runId);
        gate.runsFinished(tx, new UUID[] {runId}, fx);
        for (UUID child : runs.unfinishedChildren(tx, runId)) {
            endRun(tx, child, "cancelled", "parent run " + runId + " " + status, fx, null);
        }
        if ("failed".equals(status)) queueOnFailure(tx, runId, note == null ? new FailureNote(null, error, 0) : note, fx);
        return true;
    }

    private void queueOnFailure(StoreTx tx, UUID runId, FailureNote note, Effects fx) {
        RunRow run = runs.byId(tx, runId, false).orElse(null);
        if (run == null) return;
        Dag dag;
        try {
            dag = catalog.resolve(run.tenantId(), run.workflowName(), run.workflowVersion());
        } catch (EngineException e) {
            return; // definition gone: nothing to run
        }
        StepDefinition f = dag.onFailure();
        if (f == null) return;
        String context = "{\"failedStep\":" + (note.failedStep() == null ? "null" : JsonText.quote(note.failedStep()))
                + ",\"error\":" + (note.error() == null ? "null" : JsonText.quote(note.error()))
                + ",\"attempts\":" + note.attempts() + "}";
        int used = steps.queueOnFailure(tx, runId, f.getName(), context);
        NewTask t = newTask(new Ready(run.tenantId(), runId, dag, f.getName(), run.priority(), used));
        tasks.insert(tx, List.of(t), 0);
        backlog.mark(t.tenantId(), t.action());
        fx.workQueued = true;
    }

    static NewTask newTask(Ready r) {
        StepDefinition s = r.dag().step(r.stepName());
        int priority = s.getPriority() != 0 ? s.getPriority() : r.priority();
        return new NewTask(r.tenantId(), r.runId(), s.getName(), r.dag().name(), r.dag().version(), priority, Dag.maxAttempts(s),
                Dag.slotCost(s), s.getExecutionTimeoutMs(), s.getScheduleToStartTimeoutMs(), null, r.attemptBase(), r.rankAt(),
                Affinity.forStep(r.dag(), s));
    }

    static NewTask newTask(String tenantId, UUID runId, Dag dag, StepDefinition s, int runPriority, int attemptBase) {
        int priority = s.getPriority() != 0 ? s.getPriority() : runPriority;
        return new NewTask(tenantId, runId, s.getName(), dag.name(), dag.version(), priority, Dag.maxAttempts(s),
                Dag.slotCost(s), s.getExecutionTimeoutMs(), s.getScheduleToStartTimeoutMs(), null, attemptBase, 0,
                Affinity.forStep(dag, s));
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
