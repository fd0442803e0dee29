package dev.drover.server.engine;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StartSteps;
import dev.drover.server.store.Database;
import dev.drover.server.store.StoreException;
import dev.drover.server.store.TaskQueries;
import java.util.ArrayList;
import java.util.List;

/** Sending leased steps to a worker's stream, shared by the dispatcher and direct dispatch. */
final class Dispatch {
    private Dispatch() {}

    /**
     * Sends the steps (whose slots the caller already occupied) in one message; returns the task ids
     * that could not be sent (the worker went away), with their slots released, for the caller to give back.
     */
    static List<Long> send(WorkerSession s, List<StartStep> steps) {
        Assignment message = steps.size() == 1 ? Assignment.newBuilder().setStart(steps.get(0)).build()
                : Assignment.newBuilder().setStarts(StartSteps.newBuilder().addAllSteps(steps)).build();
        if (s.open && s.connection.send(message)) return List.of();
        List<Long> unsent = new ArrayList<>(steps.size());
        for (StartStep st : steps) {
            s.release(st.getTaskId());
            unsent.add(st.getTaskId());
        }
        return unsent;
    }

    /**
     * Puts leased tasks that never reached their worker back in the queue (same attempt number). If
     * that fails too, their leases expire and the sweep requeues them: nothing is lost either way.
     */
    static void giveBack(Database db, List<Long> taskIds) {
        try {
            db.inTx(tx -> {
                new TaskQueries().unclaim(tx, taskIds.toArray(Long[]::new));
                return null;
            });
        } catch (StoreException e) {
            org.slf4j.LoggerFactory.getLogger(Dispatch.class)
                    .warn("Could not give back unsent tasks (their leases will expire): {}", e.getMessage());
        }
    }
}
