package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.CancelStep;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.TaskQueries;
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

    record Registration(UUID id, String tenantId, String name, String[] actions, int slots, String labelsJson) {}

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
        registrations.put(id, new Registration(id, tenantId, name, actionArray, slots, labelsJson));
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
            r = db.inTx(tx -> workers.get(tx, id)).map(w -> new Registration(w.id(), w.tenantId(), w.name(), w.actions(), w.slots(),
                            w.labelsJson()))
                    .orElseThrow(() -> new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                            "worker_id: worker " + id + " is not registered; call Register first"));
            registrations.put(id, r);
        }
        Long[] held = inFlight.stream().map(InFlight::taskId).toArray(Long[]::new);
        String[] state = {"active"};
        int released = db.inTx(tx -> {
            // Paused or draining (maybe through another replica, before a reconnect) stays so.
            state[0] = workers.states(tx, new UUID[] {id}).getOrDefault(id, "active");
            return tasks.releaseNotHeld(tx, id, held);
        });
        if (released > 0) log.info("Worker '{}' ({}) did not have {} step(s) sent to it; they are queued again", r.name(), id, released);
        WorkerSession s = new WorkerSession(id, r.tenantId(), r.name(), r.actions(), r.slots(), connection, r.labelsJson(),
                state[0]);
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
    /** True when every one of the tasks is held by the worker's session here and is a single-step run's. */
    boolean allSingleSteps(UUID workerId, Long[] taskIds) {
        WorkerSession s = sessions.get(workerId);
        if (s == null) return false;
        for (Long id : taskIds) if (!s.holdsSingleStep(id)) return false;
        return true;
    }

    /** The worker's session when its stream is held by this server, else null. */
    WorkerSession session(UUID workerId) {
        return sessions.get(workerId);
    }

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

    /** The safety net: recount every worker connected here, and refresh their paused/draining states. */
    void recountAll() {
        boolean freed = false;
        for (UUID id : new ArrayList<>(sessions.keySet())) freed |= recount(id);
        freed |= refreshStates(sessions.keySet().toArray(UUID[]::new));
        if (freed) onCapacity.run();
    }

    // ---- pausing and draining -------------------------------------------------------------------------

    /** Tells every replica that a worker's state changed (payload: worker id); see {@link #refreshStates}. */
    static final String STATE_CHANNEL = "drover_worker_state";

    /** A worker as shown by ListWorkers. {@code drained}: draining and nothing leased to it any more. */
    public record WorkerView(String id, String name, Map<String, String> labels, int slots, int usedSlots, int inFlight,
                             String state, boolean drained, boolean alive, java.time.Instant lastHeartbeatAt,
                             java.time.Instant registeredAt, List<String> actions, String sdk) {}

    /** The tenant's registered workers, by name. */
    public List<WorkerView> list(String tenantId) {
        return db.inTx(tx -> workers.list(tx, tenantId, null, settings.leaseTimeout().toMillis())).stream()
                .map(WorkerRegistry::view).toList();
    }

    public WorkerView get(String tenantId, String workerIdText) {
        UUID id = Ids.parse("worker_id", workerIdText);
        return db.inTx(tx -> workers.list(tx, tenantId, id, settings.leaseTimeout().toMillis())).stream().findFirst()
                .map(WorkerRegistry::view)
                .orElseThrow(() -> new EngineException(EngineException.Kind.NOT_FOUND, "worker " + id + " not found"));
    }

    /**
     * Sets a worker's state: "paused" and "draining" give it no new work (its in-flight attempts finish,
     * its stream and heartbeats go on), "active" resumes it. Stored, so every replica's claim obeys at
     * once and the state survives reconnects; the replica holding the stream is told to refresh its copy.
     */
    public WorkerView setState(String tenantId, String workerIdText, String state) {
        UUID id = Ids.parse("worker_id", workerIdText);
        boolean found = db.inTx(tx -> workers.setState(tx, tenantId, id, state));
        if (!found) throw new EngineException(EngineException.Kind.NOT_FOUND, "worker " + id + " not found");
        WorkerSession s = sessions.get(id);
        if (s != null) s.state = state;
        try {
            db.notify(STATE_CHANNEL, id.toString());
        } catch (RuntimeException e) {
            log.debug("Could not announce a worker state change (replicas refresh within a second): {}", e.toString());
        }
        log.info("Worker {} is now {}", id, state);
        if (state.equals("active")) onCapacity.run();
        return get(tenantId, workerIdText);
    }

    /**
     * Drains a worker: paused as "draining"; when {@code wait} is positive, returns once nothing is
     * leased to it any more (drained) or the wait is over, whichever comes first.
     */
    public WorkerView drain(String tenantId, String workerIdText, java.time.Duration wait) {
        if (wait.isNegative() || wait.compareTo(java.time.Duration.ofMinutes(5)) > 0) {
            throw EngineException.invalid("wait_ms: must be between 0 and 300000, got " + wait.toMillis());
        }
        WorkerView v = setState(tenantId, workerIdText, "draining");
        long deadline = System.nanoTime() + wait.toNanos();
        // Polls the queue: the worker's attempts may end through any replica.
        while (!v.drained() && v.state().equals("draining") && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return v;
            }
            v = get(tenantId, workerIdText);
        }
        return v;
    }

    // ---- a worker shutting down (ReleaseSteps) ---------------------------------------------------------

    /** Tells every replica that a worker is leaving (payload: worker id); see {@link #endStream}. */
    static final String LEAVING_CHANNEL = "drover_worker_leaving";

    /**
     * A worker shutting down gracefully: stored as draining, so no replica's claim gives it anything
     * more, and its stream is ended by the replica that holds it (here, or told through the database),
     * so that every step sent to it arrives before the end of the stream. Idempotent: the worker repeats
     * the call until it sees its stream end (a notification can be lost).
     */
    public void leaving(String tenantId, String workerIdText) {
        UUID id = Ids.parse("worker_id", workerIdText);
        boolean found = db.inTx(tx -> workers.setState(tx, tenantId, id, "draining"));
        if (!found) throw new EngineException(EngineException.Kind.NOT_FOUND, "worker " + id + " not found");
        if (!endStream(id)) {
            try {
                db.notify(LEAVING_CHANNEL, id.toString());
            } catch (RuntimeException e) {
                log.debug("Could not announce a leaving worker (it will ask again): {}", e.toString());
            }
        }
    }

    /**
     * Ends the stream of a leaving worker held here; false when it is not held here. The session is
     * closed before the stream is completed: a step claimed for it from then on fails to send and is
     * given back by its sender ({@link Dispatch#send} callers unclaim), and a send that got in first is
     * on the stream ahead of its end (sends and the close are serialized on the connection).
     */
    boolean endStream(UUID id) {
        WorkerSession s = sessions.get(id);
        if (s == null) return false;
        s.state = "draining";
        s.open = false;
        sessions.remove(id, s);
        s.connection.close();
        log.info("Worker '{}' ({}) is shutting down: its stream is closed", s.name, id);
        return true;
    }

    /** Another replica was asked to end a leaving worker's stream. */
    void leavingElsewhere(String workerIdText) {
        try {
            endStream(UUID.fromString(workerIdText));
        } catch (IllegalArgumentException e) {
            log.debug("Ignoring a bad leaving-worker notification: {}", workerIdText);
        }
    }

    /**
     * Puts back in the queue the attempts a leaving worker received and will not start (see
     * {@link TaskQueries#handBack}); returns how many went back. Rate limit units they were granted stay
     * consumed and sticky runs keep their worker, as after a lease expiry; concurrency places belong to
     * the run or step, which keeps them.
     */
    public int handBack(String tenantId, String workerIdText, List<InFlight> attempts) {
        UUID id = Ids.parse("worker_id", workerIdText);
        if (attempts.isEmpty()) return 0;
        if (attempts.size() > 100_000) throw EngineException.invalid("steps: at most 100000 per call");
        Long[] ids = attempts.stream().map(InFlight::taskId).toArray(Long[]::new);
        Integer[] numbers = attempts.stream().map(InFlight::attempt).toArray(Integer[]::new);
        List<dev.drover.server.store.Rows.TaskRow> back = db.inTx(tx -> tasks.handBack(tx, tenantId, id, ids, numbers));
        WorkerSession s = sessions.get(id);
        for (var t : back) {
            backlog.mark(t.tenantId(), t.workflowName() + "/" + t.stepName());
            if (s != null) s.release(t.id());
        }
        if (!back.isEmpty()) {
            log.info("Worker {} handed back {} step(s) it had not started; they are queued again", id, back.size());
            onCapacity.run();
            try {
                db.notify(Engine.WORK_CHANNEL, ""); // other replicas' workers may take them (they also poll)
            } catch (RuntimeException e) {
                log.debug("Could not announce handed-back work: {}", e.toString());
            }
        }
        return back.size();
    }

    /** Another replica changed a worker's state: refresh the copy of a session held here. */
    void stateChanged(String workerIdText) {
        try {
            if (refreshStates(new UUID[] {UUID.fromString(workerIdText)})) onCapacity.run();
        } catch (IllegalArgumentException e) {
            log.debug("Ignoring a bad worker state notification: {}", workerIdText);
        }
    }

    /** Copies the stored states of the given workers, where connected here; true when one became active. */
    private boolean refreshStates(UUID[] ids) {
        if (ids.length == 0) return false;
        boolean resumed = false;
        Map<UUID, String> states = db.inTx(tx -> workers.states(tx, ids));
        for (var e : states.entrySet()) {
            WorkerSession s = sessions.get(e.getKey());
            if (s == null) continue;
            resumed |= !s.accepting() && e.getValue().equals("active");
            s.state = e.getValue();
        }
        return resumed;
    }

    private static WorkerView view(WorkerQueries.WorkerListing w) {
        Map<String, String> labels;
        try {
            labels = JSON.readValue(w.labelsJson(), new com.fasterxml.jackson.core.type.TypeReference<java.util.TreeMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            labels = Map.of();
        }
        return new WorkerView(w.id().toString(), w.name(), labels, w.slots(), w.usedSlots(), w.inFlight(), w.state(),
                w.state().equals("draining") && w.inFlight() == 0, w.alive(), w.lastHeartbeatAt(), w.registeredAt(),
                List.of(w.actions()), w.sdk());
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
            if (s.open && s.accepting() && s.tenantId.equals(tenantId) && s.actionSet.contains(action) && s.reserve(cost)) return s;
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
