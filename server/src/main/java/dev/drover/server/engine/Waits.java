package dev.drover.server.engine;

import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.ArmedWait;
import dev.drover.server.store.Rows.EndedWait;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreTx;
import dev.drover.server.store.WaitQueries;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Durable waits: a step that sleeps or waits for an event between "parents done" and "queued". The
 * wait is a row in drover_wait and nothing else, so it holds no worker slot and survives any restart.
 * It ends on the database clock (sleeps and timeouts, swept by {@link #tick}) or when a matching
 * event is pushed ({@link #eventPushed}, inside the push's own transaction, so an accepted event has
 * already woken its waiters).
 */
final class Waits {
    private static final int BATCH = 500;

    private final Database db;
    private final RunProgress progress;
    private final Engine engine;
    private final WaitQueries waits = new WaitQueries();
    private final StepRunQueries steps = new StepRunQueries();

    Waits(Database db, RunProgress progress, Engine engine) {
        this.db = db;
        this.progress = progress;
        this.engine = engine;
    }

    /** Ends the sleeps that are over and the event waits that timed out; returns how many ended. */
    int tick() {
        Effects fx = db.inTx(tx -> {
            Effects e = new Effects();
            List<EndedWait> slept = waits.endSleeps(tx, BATCH);
            progress.waitsEnded(tx, slept, e);
            List<EndedWait> timedOut = waits.endTimedOut(tx, BATCH);
            List<EndedWait> goOn = new ArrayList<>();
            for (EndedWait w : timedOut) {
                if ("continue".equals(w.onTimeout())) {
                    steps.setContext(tx, w.runId(), w.stepName(), "{\"timedOut\":true}");
                    goOn.add(w);
                } else {
                    progress.failWaitingStep(tx, w.runId(), w.stepName(), "timed out waiting for an event", w.attempts(), e);
                }
            }
            progress.waitsEnded(tx, goOn, e);
            e.acted = slept.size() + timedOut.size();
            return e;
        });
        engine.apply(fx);
        return fx.acted;
    }

    /**
     * An event was stored: every armed wait for its name whose match condition holds ends, and its
     * step is queued with the event as its context. Runs in the push's transaction.
     */
    void eventPushed(StoreTx tx, String tenantId, UUID eventId, String name, String payloadJson, Effects fx) {
        List<ArmedWait> armed = waits.armedFor(tx, tenantId, name);
        if (armed.isEmpty()) return;
        List<UUID> runIds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (ArmedWait w : armed) {
            if (w.match() != null && !w.match().isEmpty()) {
                String parents = parentsOf(tx, w);
                boolean ok = Expressions.compile("wait.match", w.match(), Dag.WAIT_VARIABLES)
                        .test(Map.of("event", payloadJson, "input", w.inputJson(), "parents", parents));
                if (!ok) continue;
            }
            runIds.add(w.runId());
            names.add(w.stepName());
            steps.setContext(tx, w.runId(), w.stepName(),
                    "{\"event\":" + payloadJson + ",\"eventId\":\"" + eventId + "\",\"eventName\":" + JsonText.quote(name) + "}");
        }
        if (runIds.isEmpty()) return;
        progress.waitsEnded(tx, waits.end(tx, runIds.toArray(UUID[]::new), names.toArray(String[]::new)), fx);
    }

    private String parentsOf(StoreTx tx, ArmedWait w) {
        // The match reads parents rarely; fetch them only for waits that have a condition.
        var run = new dev.drover.server.store.RunQueries().byId(tx, w.runId(), false).orElse(null);
        if (run == null) return "{}";
        Dag dag;
        try {
            dag = engine.workflows().resolve(run.tenantId(), run.workflowName(), run.workflowVersion());
        } catch (EngineException e) {
            return "{}";
        }
        var def = dag.step(w.stepName());
        if (def == null || def.getParentsCount() == 0) return "{}";
        UUID[] ids = new UUID[def.getParentsCount()];
        java.util.Arrays.fill(ids, w.runId());
        var outputs = steps.outputs(tx, ids, def.getParentsList().toArray(String[]::new));
        return RunProgress.parentsJson(outputs.get(w.runId()), def);
    }
}
