package dev.drover.server.engine;

import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.RunRow;
import dev.drover.server.store.Rows.StepRunRow;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreException;
import dev.drover.server.store.TaskQueries;
import dev.drover.server.store.WaitQueries;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Replay: a finished run runs again in place, from the start or from one step. The steps that start
 * over are the chosen one, every step that did not finish well (failed, cancelled), and all their
 * descendants; the others keep their outputs, which the replayed steps receive as before. Attempt
 * counters go on (attempt 3 of a step replayed after two attempts is its 3rd), so the history of
 * failed attempts stays whole.
 */
public final class Replays {
    private static final Set<String> DONE_WELL = Set.of("succeeded", "skipped");

    private final Database db;
    private final WorkflowCatalog catalog;
    private final RunProgress progress;
    private final Engine engine;
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private final TaskQueries tasks = new TaskQueries();
    private final WaitQueries waits = new WaitQueries();

    Replays(Database db, WorkflowCatalog catalog, RunProgress progress, Engine engine) {
        this.db = db;
        this.catalog = catalog;
        this.progress = progress;
        this.engine = engine;
    }

    /** Replays one finished run; {@code fromStep} empty or null = from the start. */
    public void replay(String tenantId, String runIdText, String fromStep) {
        UUID id = Ids.parse("run_id", runIdText);
        Text.check("from_step", fromStep);
        Effects fx = db.inTx(tx -> {
            Effects e = new Effects();
            replayInTx(tx, tenantId, id, fromStep == null ? "" : fromStep, e);
            return e;
        });
        engine.apply(fx);
    }

    private static final Instant FIRST_CREATED = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LAST_CREATED = Instant.parse("9999-12-31T23:59:59.999Z");

    /** A bound of the creation-time filter: within the years 1 to 9999 (beyond, it cannot be a database timestamp). */
    private static void checkCreated(String field, Instant t) {
        if (t != null && (t.isBefore(FIRST_CREATED) || t.isAfter(LAST_CREATED))) {
            throw EngineException.invalid(field + ": " + t + " is outside the years 1 to 9999");
        }
    }

    /** Replays every finished run matching the filter (each in its own transaction); returns the ids replayed. */
    public List<String> replayMatching(String tenantId, String workflowName, String status, Instant createdAfter,
                                       Instant createdBefore, Map<String, String> metadata, String fromStep, int limit) {
        if (workflowName == null || workflowName.isEmpty()) throw EngineException.invalid("workflow_name: required");
        Text.check("workflow_name", workflowName);
        if (status != null && !Set.of("succeeded", "failed", "cancelled").contains(status)) {
            throw EngineException.invalid("status: must be a final status (succeeded, failed or cancelled)");
        }
        if (limit < 0 || limit > 10_000) throw EngineException.invalid("limit: must be between 1 and 10000");
        checkCreated("created_after", createdAfter);
        checkCreated("created_before", createdBefore);
        int lim = limit == 0 ? 1000 : limit;
        String meta;
        try {
            meta = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(metadata == null ? Map.of() : metadata);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw EngineException.invalid("metadata: " + e.getOriginalMessage());
        }
        if (metadata != null) metadata.forEach((k, v) -> {
            Text.check("metadata key", k);
            Text.check("metadata." + Text.clip(k, 40), v);
        });
        List<UUID> ids = db.inTx(tx -> runs.finishedMatching(tx, tenantId, workflowName, status, createdAfter, createdBefore, meta, lim));
        List<String> out = new ArrayList<>();
        for (UUID id : ids) {
            try {
                replay(tenantId, id.toString(), fromStep);
                out.add(id.toString());
            } catch (EngineException e) {
                if (e.kind() != EngineException.Kind.FAILED_PRECONDITION && e.kind() != EngineException.Kind.NOT_FOUND) throw e;
                // started again meanwhile, or from_step not applicable to this one: leave it
            } catch (StoreException e) {
                throw e;
            }
        }
        return out;
    }

    private void replayInTx(dev.drover.server.store.StoreTx tx, String tenantId, UUID id, String fromStep, Effects fx) {
        RunRow run = runs.byId(tx, id, true).filter(r -> r.tenantId().equals(tenantId))
                .orElseThrow(() -> EngineException.notFound("run_id: no run " + id));
        if (run.finishedAt() == null) {
            throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                    "run_id: run " + id + " is " + run.status() + "; only a finished run can be replayed (cancel it first)");
        }
        Dag dag = catalog.resolve(run.tenantId(), run.workflowName(), run.workflowVersion());
        Map<String, StepRunRow> rows = new HashMap<>();
        for (StepRunRow s : steps.forRun(tx, id)) rows.put(s.stepName(), s);

        Set<String> reset = new LinkedHashSet<>();
        if (fromStep.isEmpty()) {
            for (StepDefinition s : dag.steps()) reset.add(s.getName());
        } else {
            StepDefinition from = dag.steps().iterator().hasNext() ? stepOf(dag, fromStep) : null;
            if (from == null) {
                throw EngineException.invalid("from_step: workflow '" + dag.name() + "' has no step '" + Text.clip(fromStep, 80) + "'");
            }
            for (String a : ancestors(dag, fromStep)) {
                StepRunRow r = rows.get(a);
                if (r == null || !DONE_WELL.contains(r.status())) {
                    throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "from_step: step '" + fromStep
                            + "' depends on '" + a + "', which did not succeed; replay from '" + a + "' instead");
                }
            }
            reset.add(fromStep);
            for (StepDefinition s : dag.steps()) {
                StepRunRow r = rows.get(s.getName());
                if (r == null || !DONE_WELL.contains(r.status())) reset.add(s.getName());
            }
        }
        // Close over descendants, in definition order (parents first).
        Deque<String> todo = new ArrayDeque<>(reset);
        while (!todo.isEmpty()) {
            for (String c : dag.children(todo.pop())) if (reset.add(c)) todo.push(c);
        }
        List<String> names = new ArrayList<>();
        List<String> statuses = new ArrayList<>();
        List<Integer> pending = new ArrayList<>();
        List<RunProgress.Ready> ready = new ArrayList<>();
        for (StepDefinition s : dag.steps()) {
            if (!reset.contains(s.getName())) continue;
            int p = 0;
            for (String parent : s.getParentsList()) if (reset.contains(parent)) p++;
            names.add(s.getName());
            statuses.add(p == 0 ? "queued" : "pending");
            pending.add(p);
            StepRunRow r = rows.get(s.getName());
            if (p == 0) ready.add(new RunProgress.Ready(run.tenantId(), id, dag, s.getName(), run.priority(), r == null ? 0 : r.attempts()));
        }
        tasks.deleteForRun(tx, id);
        waits.deleteForRun(tx, id);
        steps.reset(tx, id, names.toArray(String[]::new), statuses.toArray(String[]::new), pending.toArray(Integer[]::new));
        runs.reopen(tx, id, names.size());
        List<GatePolicy.Group> groups = Gate.runGroups(dag, run.inputJson());
        if (!groups.isEmpty()) {
            // A replayed run takes its turn at its concurrency groups like a new one.
            switch (progress.gate().arrive(tx, List.of(new Gate.Arrival(run.tenantId(), id, "", groups)), fx).get(0)) {
                case ADMIT -> { }
                case WAIT -> {
                    return;
                }
                case CANCEL -> {
                    progress.endRun(tx, id, "cancelled", "concurrency limit reached (cancel_newest)", fx);
                    return;
                }
            }
        }
        progress.ready(tx, ready, fx);
    }

    private static StepDefinition stepOf(Dag dag, String name) {
        for (StepDefinition s : dag.steps()) if (s.getName().equals(name)) return s;
        return null;
    }

    private static Set<String> ancestors(Dag dag, String step) {
        Set<String> out = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(dag.step(step).getParentsList());
        while (!todo.isEmpty()) {
            String p = todo.pop();
            if (out.add(p)) todo.addAll(dag.step(p).getParentsList());
        }
        return out;
    }
}
