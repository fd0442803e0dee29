package dev.drover.server.engine;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker connected to this server: what it can run and how many slots are free.
 * Invariant: {@code used} equals the sum of slot costs in {@code inFlight}; the dispatcher never lets
 * it exceed {@code slots}.
 */
final class WorkerSession {
    final UUID id;
    final String tenantId;
    final String name;
    final String[] actions;
    final int slots;
    final WorkerConnection connection;
    /** The worker's labels as a JSON object, matched by the claim against steps' affinity. */
    final String labelsJson;
    /**
     * "active", "paused" or "draining", as stored in drover_worker (the truth, which the claim reads):
     * this copy only spares the dispatcher claims that would find nothing, and keeps direct dispatch
     * away from a paused worker. Refreshed on a state change (notification) and every second.
     */
    volatile String state = "active";
    /**
     * Slot cost and the moment it was bound, per task held; {@code singleStep}: the task is the only
     * step of its workflow (see {@link Dag#singleStep}), so its success can be recorded in one statement.
     */
    private record Held(int cost, long boundAtNanos, boolean singleStep) {}

    private final Map<Long, Held> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger used = new AtomicInteger();
    volatile boolean open = true;

    WorkerSession(UUID id, String tenantId, String name, String[] actions, int slots, WorkerConnection connection,
                  String labelsJson, String state) {
        this.labelsJson = labelsJson;
        this.state = state;
        this.id = id;
        this.tenantId = tenantId;
        this.name = name;
        this.actions = actions;
        this.slots = slots;
        this.connection = connection;
        this.actionSet = java.util.Set.of(actions);
    }

    private int actionOffset;

    /** Where the next claim starts in {@link #actions} (only the dispatcher thread calls this). */
    int nextActionOffset() {
        actionOffset = (actionOffset + 1) % actions.length;
        return actionOffset;
    }

    /** False while the worker is paused or draining: it gets no new work. */
    boolean accepting() {
        return "active".equals(state);
    }

    int free() {
        return slots - used.get();
    }

    final java.util.Set<String> actionSet;

    /** Takes {@code cost} slots before the task exists (direct dispatch); false when there is no room. */
    boolean reserve(int cost) {
        while (true) {
            int u = used.get();
            if (u + cost > slots) return false;
            if (used.compareAndSet(u, u + cost)) return true;
        }
    }

    /** Reserves as many free slots as there are, up to {@code max}; returns how many. */
    int reserveUpTo(int max) {
        while (true) {
            int u = used.get();
            int k = Math.min(slots - u, max);
            if (k <= 0) return 0;
            if (used.compareAndSet(u, u + k)) return k;
        }
    }

    /** The reserved slots now belong to this task. */
    void bind(long taskId, int cost, boolean singleStep) {
        if (inFlight.putIfAbsent(taskId, new Held(cost, System.nanoTime(), singleStep)) != null) used.addAndGet(-cost);
    }

    /** True when the task is held here and is the only step of its workflow. */
    boolean holdsSingleStep(long taskId) {
        Held h = inFlight.get(taskId);
        return h != null && h.singleStep();
    }

    void unreserve(int cost) {
        used.addAndGet(-cost);
    }

    void occupy(long taskId, int cost) {
        if (inFlight.putIfAbsent(taskId, new Held(cost, System.nanoTime(), false)) == null) used.addAndGet(cost);
    }

    void release(long taskId) {
        Held held = inFlight.remove(taskId);
        if (held != null) used.addAndGet(-held.cost());
    }

    /**
     * Frees the slots of attempts the database no longer shows leased to this worker (their reports
     * reached another replica). Tasks are bound only after their lease committed, so anything bound
     * and not leased any more is finished.
     */
    int forgetAllBut(java.util.Set<Long> leased, long readStartedNanos) {
        int freed = 0;
        for (var e : inFlight.entrySet()) {
            Long id = e.getKey();
            // Bound after the read began: its lease may be newer than what the read saw.
            if (e.getValue().boundAtNanos() - readStartedNanos < 0 && !leased.contains(id)) {
                release(id);
                freed++;
            }
        }
        return freed;
    }

    int inFlightCount() {
        return inFlight.size();
    }
}
