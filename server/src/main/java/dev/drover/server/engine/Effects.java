package dev.drover.server.engine;

import dev.drover.proto.v1.StartStep;
import dev.drover.server.store.Rows.NewTask;
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

    /**
     * The worker whose reports this transaction records, when it is connected here: steps those
     * reports make ready go straight to it (see {@link RunProgress#enqueue}) while it has free slots
     * and their action has no backlog, instead of being queued and claimed. Null: everything queues.
     */
    WorkerSession handOffTo;
    /** True only while the successes are recorded (a failure's retry waits its turn in the queue). */
    boolean handingOff;
    long handOffLeaseMs;
    /** Ready steps inserted leased to {@link #handOffTo}, with their task ids; their slots are reserved. */
    final List<HandOff> handOffs = new ArrayList<>();
    /** What {@link #handOffs} are sent as, once committed (built in the transaction: inputs, parents' outputs). */
    final List<StartStep> handOffStarts = new ArrayList<>();
    /** Slots reserved on {@link #handOffTo} by this transaction; given back if it rolls back. */
    int handOffReserved;

    record HandOff(NewTask task, long taskId) {}

    /** Forgets everything (a transaction that is about to be retried from the start). */
    void clear() {
        finishedRuns.clear();
        stopOnWorkers.clear();
        stopReasons.clear();
        workQueued = false;
        acted = 0;
        undoHandOffs();
    }

    /** Gives back the slots reserved for hand-offs (the transaction that inserted them did not commit). */
    void undoHandOffs() {
        if (handOffTo != null && handOffReserved > 0) handOffTo.unreserve(handOffReserved);
        handOffReserved = 0;
        handOffs.clear();
        handOffStarts.clear();
    }

    void stop(TaskRow task, String reason) {
        if (task.workerId() != null && "leased".equals(task.state())) {
            stopOnWorkers.add(task);
            stopReasons.add(reason);
        }
    }
}
