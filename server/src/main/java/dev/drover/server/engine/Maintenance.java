package dev.drover.server.engine;

import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.StoreException;
import dev.drover.server.store.TaskQueries;
import dev.drover.server.store.WorkerQueries;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timers: expired leases, execution and schedule-to-start timeouts, and pruning of old history.
 * Every decision compares against the database clock (now() in SQL), so process clocks do not matter,
 * and rows are locked with SKIP LOCKED, so several replicas can run this side by side safely.
 */
final class Maintenance {
    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);
    private static final int BATCH = 500;

    private final Database db;
    private final RunProgress progress;
    private final Engine engine;
    private final EngineSettings settings;
    private final TaskQueries tasks = new TaskQueries();
    private final RunQueries runs = new RunQueries();
    private final WorkerQueries workers = new WorkerQueries();
    private long lastPrune;

    private final Waits waits;

    Maintenance(Database db, RunProgress progress, Engine engine, EngineSettings settings, Waits waits) {
        this.waits = waits;
        this.db = db;
        this.progress = progress;
        this.engine = engine;
        this.settings = settings;
    }

    /** One pass; returns how many tasks it acted on. */
    int tick() {
        int acted = 0;
        try {
            long leaseMs = settings.leaseTimeout().toMillis();
            acted += sweep((tx, limit) -> tasks.expiredLeases(tx, leaseMs, limit), t -> new RunProgress.Failure("lost",
                    "lease expired: worker " + t.workerId() + " stopped heartbeating", null, null, false), null);
            acted += sweep(tasks::pastExecutionDeadline, t -> new RunProgress.Failure("timed_out",
                    "execution timeout of " + t.executionTimeoutMs() + " ms exceeded", null, null, false), "execution timeout");
            acted += waits.tick();
            acted += sweep(tasks::pastScheduleDeadline, t -> new RunProgress.Failure("failed",
                    "schedule-to-start timeout: no worker started the step in time", "ScheduleToStartTimeout", null, true), null);
            long now = System.nanoTime();
            // Every minute, or more often when the retention itself is short.
            long every = Math.min(60_000_000_000L, Math.max(1_000_000_000L, settings.retention().toNanos() / 2));
            if (now - lastPrune > every || lastPrune == 0) {
                lastPrune = now;
                prune();
            }
        } catch (StoreException e) {
            log.warn("Maintenance skipped: {}", e.getMessage());
        }
        return acted;
    }

    private int sweep(java.util.function.BiFunction<dev.drover.server.store.StoreTx, Integer, List<TaskRow>> find,
                      java.util.function.Function<TaskRow, RunProgress.Failure> why, String stopReason) {
        Effects fx = db.inTx(tx -> {
            Effects e = new Effects();
            // One replica at a time sweeps (the others' attempts skip this round).
            if (!tx.tryExclusive("drover-maintenance")) return e;
            for (TaskRow t : find.apply(tx, BATCH)) {
                if (stopReason != null) e.stop(t, stopReason);
                progress.failed(tx, t, why.apply(t), e);
            }
            return e;
        });
        engine.apply(fx);
        return fx.stopOnWorkers.size() + fx.finishedRuns.size() + (fx.workQueued ? 1 : 0);
    }

    private void prune() {
        sweep(tasks::orphanedLeases, t -> new RunProgress.Failure("lost",
                "lease expired: worker " + t.workerId() + " is not registered", null, null, false), null);
        long retentionMs = settings.retention().toMillis();
        int total = 0, n;
        do {
            n = db.inTx(tx -> runs.pruneFinished(tx, retentionMs, 1000));
            total += n;
        } while (n == 1000);
        engine.events().prune(retentionMs);
        int silent = db.inTx(tx -> workers.deleteSilent(tx, Math.max(600_000, settings.leaseTimeout().toMillis() * 10)));
        if (total > 0 || silent > 0) log.info("Pruned {} finished runs older than {} and {} silent workers", total,
                settings.retention(), silent);
    }
}
