package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.CancelStep;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.WorkerQueries;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Workers: registration (durable, visible to every replica), heartbeats, and the sessions connected here. */
public final class WorkerRegistry {
    private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Database db;
    private final WorkflowCatalog catalog;
    private final EngineSettings settings;
    private final WorkerQueries workers = new WorkerQueries();
    private final Map<UUID, Registration> registrations = new ConcurrentHashMap<>();
    private final dev.drover.server.store.TaskQueries tasks = new dev.drover.server.store.TaskQueries();
    private volatile boolean closed;
    private final Map<UUID, WorkerSession> sessions = new ConcurrentHashMap<>();
    private volatile Runnable onCapacity = () -> { };
    private final Backlog backlog;
    private final java.util.concurrent.atomic.AtomicInteger rotation = new java.util.concurrent.atomic.AtomicInteger();

    record Registration(UUID id, String tenantId, String name, String[] actions, int slots) {}

    /** What a worker learns when it registers. */
    public record Registered(UUID workerId, long heartbeatIntervalMs, long leaseTimeoutMs) {}

    /** An attempt a reconnecting worker is still running. */
    public record InFlight(long taskId, int attempt, int slotCost) {}

    WorkerRegistry(Database db, WorkflowCatalog catalog, EngineSettings settings, Backlog backlog) {
        this.backlog = backlog;
        this.db = db;
        this.catalog = catalog;
        this.settings = settings;
    }

    void onCapacity(Runnable r) {
        this.onCapacity = r;
    }

    public Registered register(String tenantId, String name, List<WorkflowDefinition> workflows, int slots,
                               Map<String, String> labels, String previousWorkerId, String sdk) {
        if (closed) throw new EngineException(EngineException.Kind.UNAVAILABLE, "server is shutting down");
        if (name == null || name.isBlank()) throw EngineException.invalid("worker_name: must not be empty");
        Text.check("worker_name", name);
        Text.check("sdk", sdk);
        for (var e : labels.entrySet()) {
            Text.check("labels key", e.getKey());
            Text.check("labels." + Text.clip(e.getKey(), 40), e.getValue());
        }
        if (slots < 1 || slots > 100_000) throw EngineException.invalid("slots: must be between 1 and 100000, got " + slots);
        if (workflows.isEmpty()) throw EngineException.invalid("workflows: a worker must register at least one workflow");
        Set<String> actions = new LinkedHashSet<>();
        for (WorkflowDefinition wf : workflows) {
            Dag.of(wf); // validate all before storing any
            for (StepDefinition s : wf.getStepsList()) actions.add(wf.getName() + "/" + s.getName());
        }
        for (WorkflowDefinition wf : workflows) catalog.register(tenantId, wf);
        UUID id = previousWorkerId == null || previousWorkerId.isBlank() ? UUID.randomUUID()
                : Ids.parse("previous_worker_id", previousWorkerId);
        String[] actionArray = actions.toArray(String[]::new);
        String labelsJson;
        try {
            labelsJson = JSON.writeValueAsString(labels);
        } catch (JsonProcessingException e) {
            throw EngineException.invalid("labels: " + e.getOriginalMessage());
        }
        db.inTx(tx -> {
            workers.upsert(tx, id, tenantId, name, slots, labelsJson, actionArray, sdk);
            return null;
        });
        registrations.put(id, new Registration(id, tenantId, name, actionArray, slots));
        log.info("Worker '{}' ({}) registered with {} slots for {}", name, id, slots, actions);
        return new Registered(id, settings.heartbeatInterval().toMillis(), settings.leaseTimeout().toMillis());
    }

    /** Opens the assignment stream of a registered worker; a previous stream of the same worker is closed. */
    public void attach(String workerIdText, WorkerConnection connection, List<InFlight> inFlight) {
        UUID id = Ids.parse("worker_id", workerIdText);
        if (closed) throw new EngineException(EngineException.Kind.UNAVAILABLE, "server is shutting down");
        Registration r = registrations.get(id);
        if (r == null) {
            // Registered through another replica: the database knows it.
            r = db.inTx(tx -> workers.get(tx, id)).map(w -> new Registration(w.id(), w.tenantId(), w.name(), w.actions(), w.slots()))
                    .orElseThrow(() -> new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                            "worker_id: worker " + id + " is not registered; call Register first"));
            registrations.put(id, r);
        }
        Long[] held = inFlight.stream().map(InFlight::taskId).toArray(Long[]::new);
        int released = db.inTx(tx -> tasks.releaseNotHeld(tx, id, held));
        if (released > 0) log.info("Worker '{}' ({}) did not have {} step(s) sent to it; they are queued again", r.name(), id, released);
        WorkerSession s = new WorkerSession(id, r.tenantId(), r.name(), r.actions(), r.slots(), connection);
        // Cost 0: finished on the worker, report not yet through; it holds no slot.
        for (InFlight f : inFlight) if (f.slotCost() > 0) s.occupy(f.taskId(), f.slotCost());
        // Work may be waiting that this server has not seen (queued before a restart, or by a replica).
        for (String action : r.actions()) backlog.mark(r.tenantId(), action);
        WorkerSession old = sessions.put(id, s);
        if (old != null) {
            old.open = false;
            old.connection.close();
        }
        onCapacity.run();
    }

    public void detach(String workerIdText, WorkerConnection connection) {
        UUID id;
        try {
            id = UUID.fromString(workerIdText);
        } catch (IllegalArgumentException e) {
            return;
        }
        sessions.computeIfPresent(id, (k, s) -> {
            if (s.connection != connection) return s;
            s.open = false;
            return null;
        });
    }

    /** Keeps the worker's leases; false when the worker is unknown and must register again. */
    public boolean heartbeat(String workerIdText) {
        UUID id = Ids.parse("worker_id", workerIdText);
        return db.inTx(tx -> workers.heartbeat(tx, id));
    }

    /**
     * The worker finished with an attempt (reported it), so its slots are free again. False when the
     * worker's stream is held by another replica, which must then recount (see {@link #recount}).
     */
    boolean release(UUID workerId, long taskId) {
        WorkerSession s = sessions.get(workerId);
        if (s == null) return false;
        s.release(taskId);
        return true;
    }

    /** Rebuilds a connected worker's used slots from the database; true when slots were freed. */
    boolean recount(UUID workerId) {
        WorkerSession s = sessions.get(workerId);
        if (s == null) return false;
        long started = System.nanoTime();
        java.util.Set<Long> leased = db.inTx(tx -> tasks.leasedTo(tx, workerId));
        return s.forgetAllBut(leased, started) > 0;
    }

    /** The safety net: recount every worker connected here. */
    void recountAll() {
        boolean freed = false;
        for (UUID id : new ArrayList<>(sessions.keySet())) freed |= recount(id);
        if (freed) onCapacity.run();
    }

    void wakeIfCapacity() {
        onCapacity.run();
    }

    /** Asks the worker holding an attempt to stop it; false when that worker is not connected here. */
    boolean stop(UUID workerId, long taskId, int attempt, String reason) {
        WorkerSession s = sessions.get(workerId);
        if (s == null) return false;
        s.connection.send(Assignment.newBuilder()
                .setCancel(CancelStep.newBuilder().setTaskId(taskId).setAttempt(attempt).setReason(reason)).build());
        return true;
    }

    /** A connected worker that runs {@code action} and had {@code cost} free slots, now reserved; or null. */
    WorkerSession reserveFor(String tenantId, String action, int cost) {
        java.util.List<WorkerSession> all = new ArrayList<>(sessions.values());
        int n = all.size();
        if (n == 0) return null;
        int start = Math.floorMod(rotation.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            WorkerSession s = all.get((start + i) % n);
            if (s.open && s.tenantId.equals(tenantId) && s.actionSet.contains(action) && s.reserve(cost)) return s;
        }
        return null;
    }

    Collection<WorkerSession> sessions() {
        return sessions.values();
    }

    public int connectedCount() {
        return sessions.size();
    }

    void closeAll() {
        closed = true;
        for (WorkerSession s : new ArrayList<>(sessions.values())) {
            s.open = false;
            s.connection.close();
        }
        sessions.clear();
    }
}
