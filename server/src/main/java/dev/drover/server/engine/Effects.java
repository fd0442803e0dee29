package dev.drover.server.engine;

import dev.drover.server.store.Rows.TaskRow;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What a transaction decided that the rest of the process must hear about once it committed:
 * runs that finished (wake awaiting clients), attempts to stop on workers, new ready work.
 * Collected inside the transaction, applied only after commit, so a rolled-back retry sends nothing.
 */
final class Effects {
    final List<UUID> finishedRuns = new ArrayList<>();
    final List<TaskRow> stopOnWorkers = new ArrayList<>();
    final List<String> stopReasons = new ArrayList<>();
    boolean workQueued;
    /** For sweeps: how many items the transaction acted on. */
    int acted;

    /** Forgets everything (a transaction that is about to be retried from the start). */
    void clear() {
        finishedRuns.clear();
        stopOnWorkers.clear();
        stopReasons.clear();
        workQueued = false;
        acted = 0;
    }

    void stop(TaskRow task, String reason) {
        if (task.workerId() != null && "leased".equals(task.state())) {
            stopOnWorkers.add(task);
            stopReasons.add(reason);
        }
    }
}
