package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.engine.Views.AttemptView;
import dev.drover.server.engine.Views.RunView;
import dev.drover.server.engine.Views.StepView;
import dev.drover.server.engine.Views.TriggerCommand;
import dev.drover.server.engine.Views.TriggerResult;
import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.AttemptRow;
import dev.drover.server.store.Rows.InsertedRun;
import dev.drover.server.store.Rows.NewRun;
import dev.drover.server.store.Rows.NewStepRun;
import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.Rows.RunRow;
import dev.drover.server.store.Rows.StepRunRow;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreException;
import dev.drover.server.store.TaskQueries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing side of the engine: trigger, inspect, await and cancel runs.
 *
 * <p>Triggers are group-committed: concurrent trigger calls are queued and a writer thread inserts
 * whatever has accumulated (up to {@value #MAX_GROUP}) in one transaction, so 32 callers cost a
 * handful of commits instead of 32. A call returns only after its transaction committed.
 */
public final class Runs {
    private static final Logger log = LoggerFactory.getLogger(Runs.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_GROUP = 1000;
    private static final Set<String> FINAL = Set.of("succeeded", "failed", "cancelled");

    private final Database db;
    private final WorkflowCatalog catalog;
    private final RunProgress progress;
    private final RunWatcher watcher;
    private final Engine engine;
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private final TaskQueries tasks = new TaskQueries();
    private final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(100_000);
    private volatile boolean running = true;

    private record Pending(NewRun run, Dag dag, Map<String, String> metadata, CompletableFuture<TriggerResult> result,
                           List<GatePolicy.Group> groups) {}

    private final EngineStats stats;

    private final WorkerRegistry registry;
    private final Backlog backlog;
    private final EngineSettings settings;

    Runs(Database db, WorkflowCatalog catalog, RunProgress progress, RunWatcher watcher, Engine engine, EngineStats stats,
         WorkerRegistry registry, Backlog backlog, EngineSettings settings) {
        this.stats = stats;
        this.registry = registry;
        this.backlog = backlog;
        this.settings = settings;
        this.db = db;
        this.catalog = catalog;
        this.progress = progress;
        this.watcher = watcher;
        this.engine = engine;
    }

    /** Validates, then waits until the run is durably stored. */
    public TriggerResult trigger(TriggerCommand cmd) {
        return await(submit(cmd));
    }

    /** Triggers several runs in one transaction (all or none). */
    public List<TriggerResult> triggerAll(List<TriggerCommand> cmds) {
        return triggerAll(cmds, null);
    }

    /**
     * Work another part of the engine does in the same transaction as a group of triggers (an event
     * stored with the runs it starts, a cron tick recorded with its run): all of it commits, or none.
     */
    public interface AlsoInTx {
        void run(dev.drover.server.store.StoreTx tx, Effects fx);
    }

    /**
     * Triggers several runs in one transaction (all or none), together with {@code also} (may be null),
     * which runs first inside the same transaction. The list may be empty (then only {@code also} runs).
     */
    public List<TriggerResult> triggerAll(List<TriggerCommand> cmds, AlsoInTx also) {
        List<Pending> batch = new ArrayList<>(cmds.size());
        Map<UUID, Integer> ids = new HashMap<>();
        for (int i = 0; i < cmds.size(); i++) {
            try {
                batch.add(prepare(cmds.get(i)));
            } catch (EngineException e) {
                throw new EngineException(e.kind(), "runs[" + i + "]." + e.getMessage());
            }
            // One statement writes the batch: the same id twice would be one run with its steps twice.
            Integer before = ids.putIfAbsent(batch.get(i).run().id(), i);
            if (before != null) {
                throw EngineException.invalid("runs[" + i + "].run_id: the same id as runs[" + before + "]; a batch names each run once");
            }
        }
        Effects fx;
        try {
            fx = writeGroup(batch, also, false);
        } catch (StoreException e) {
            throw EngineException.classify(e) instanceof EngineException ee ? ee : e;
        }
        engine.apply(fx);
        List<TriggerResult> out = new ArrayList<>();
        for (Pending p : batch) out.add(p.result().join());
        return out;
    }

    /**
     * One of several independent triggers that arrived in one message: written as {@link #trigger}
     * writes a single call's (in the writer's next group, with other calls' triggers), without waiting.
     * Bad input fails the returned future, not the caller; {@link #await} gives the result or error.
     */
    public CompletableFuture<TriggerResult> submitIndependent(TriggerCommand cmd) {
        try {
            return submit(cmd);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * True when {@link #submitIndependent} will not wait on the database for this command: it names no
     * parent run (a child's parent is read first) and its workflow is known here. A caller on a thread
     * that must never block (the gRPC event loop) submits only such commands.
     */
    public boolean submitsWithoutWaiting(TriggerCommand cmd) {
        boolean child = cmd.link() != null && cmd.link().parentRunId() != null && !cmd.link().parentRunId().isEmpty();
        return !child && catalog.cached(cmd.tenantId(), cmd.workflowName(), cmd.version()) != null;
    }

    CompletableFuture<TriggerResult> submit(TriggerCommand cmd) {
        Pending p = prepare(cmd);
        if (!running) throw new EngineException(EngineException.Kind.UNAVAILABLE, "server is shutting down");
        if (!queue.offer(p)) throw new EngineException(EngineException.Kind.UNAVAILABLE, "trigger queue is full; retry");
        return p.result();
    }

    /** Rejects a payload over the limit with a message naming the field and the setting. */
    static void checkSize(String field, String json, int maxBytes) {
        // Cheap first: a string of n chars has between n and 3n UTF-8 bytes.
        if (json.length() * 3L <= maxBytes) return;
        int bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            throw EngineException.invalid(field + ": " + bytes + " bytes, more than the limit of " + maxBytes
                    + " (DROVER_MAX_PAYLOAD)");
        }
    }

    private Pending prepare(TriggerCommand cmd) {
        if (cmd.workflowName() == null || cmd.workflowName().isBlank()) {
            throw EngineException.invalid("workflow_name: must not be empty");
        }
        Text.check("workflow_name", cmd.workflowName());
        Text.check("workflow_version", cmd.version());
        Text.check("idempotency_key", cmd.idempotencyKey());
        if (cmd.metadata() != null) {
            for (var e : cmd.metadata().entrySet()) {
                Text.check("metadata key", e.getKey());
                Text.check("metadata." + Text.clip(e.getKey(), 40), e.getValue());
            }
        }
        String input = cmd.inputJson() == null || cmd.inputJson().isBlank() ? "{}" : cmd.inputJson();
        checkSize("input_json", input, settings.maxPayloadBytes());
        String problem = JsonText.problem(input);
        if (problem != null) throw EngineException.invalid("input_json: not valid JSON: " + problem);
        if (cmd.idempotencyKey() != null && cmd.idempotencyKey().length() > 512) {
            throw EngineException.invalid("idempotency_key: at most 512 characters");
        }
        if (cmd.priority() < 0 || cmd.priority() > 4) throw EngineException.invalid("priority: must be between 0 and 4");
        String metadata;
        try {
            metadata = cmd.metadata() == null || cmd.metadata().isEmpty() ? "{}" : JSON.writeValueAsString(cmd.metadata());
            if (metadata.length() > 64 * 1024) throw EngineException.invalid("metadata: more than 64 KiB");
        } catch (JsonProcessingException e) {
            throw EngineException.invalid("metadata: " + e.getOriginalMessage());
        }
        Dag dag = catalog.resolve(cmd.tenantId(), cmd.workflowName(), cmd.version());
        String key = cmd.idempotencyKey() == null || cmd.idempotencyKey().isEmpty() ? null : cmd.idempotencyKey();
        UUID id = cmd.runId() == null || cmd.runId().isEmpty() ? Ids.newRunId() : Ids.parse("run_id", cmd.runId());
        Views.Link link = cmd.link() == null ? Views.Link.NONE : cmd.link();
        UUID parent = link.parentRunId() == null || link.parentRunId().isEmpty() ? null : Ids.parse("parent_run_id", link.parentRunId());
        if (parent != null) {
            Text.check("parent_step", link.parentStep());
            if (link.parentStep() == null || link.parentStep().isEmpty()) throw EngineException.invalid("parent_step: required with parent_run_id");
            if (link.childIndex() != null && link.childIndex() < 0) throw EngineException.invalid("child_index: must not be negative");
        }
        if (parent != null) {
            // A child is created once per (parent, replay, step, index): a retried parent step gets its
            // existing children back instead of spawning them again; a replayed parent spawns new ones.
            RunRow p = db.inTx(tx -> runs.byId(tx, parent, false)).filter(r -> r.tenantId().equals(cmd.tenantId()))
                    .orElseThrow(() -> EngineException.notFound("parent_run_id: no run " + parent));
            if (p.finishedAt() != null) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                        "parent_run_id: run " + parent + " has finished (" + p.status() + "); it cannot spawn children");
            }
            if (key == null) {
                int replays = db.inTx(tx -> runs.replays(tx, parent));
                key = "child:" + parent + ":" + replays + ":" + link.parentStep() + ":"
                        + (link.childIndex() == null ? 0 : link.childIndex());
            }
        }
        UUID event = link.eventId() == null || link.eventId().isEmpty() ? null : Ids.parse("event_id", link.eventId());
        NewRun run = new NewRun(id, cmd.tenantId(), dag.name(), dag.version(), input, metadata,
                cmd.priority(), key, dag.size(), false, parent, parent == null ? null : link.parentStep(),
                parent == null ? null : link.childIndex(), event);
        return new Pending(run, dag, cmd.metadata() == null ? Map.of() : cmd.metadata(), new CompletableFuture<>(),
                Gate.runGroups(dag, input));
    }

    /**
     * One writer, the primary, takes every call off the queue while it is healthy: while it writes a
     * group, everything that arrives waits for its next group instead of being picked up a few at a time
     * by idle writers. Bigger groups cost the database less per run (measured with {@code drover bench
     * ceiling --mixed}, 32 runs in flight: one transaction of 32 every round trip drained 9.4-11.9k
     * runs/s, eight of 4 at once 6.9-7.7k; {@code concurrent-triggers} with one writer instead of eight
     * free ones 6,856-9,115 against 5,571-7,392 runs/s, three alternations), and the same thread keeps
     * the work (handing the turn between writers cost a thread wake-up per group: slower, measured).
     * The other writers stand by for a primary that is stuck: once one group has been writing for
     * {@link #STUCK_MS} (a lock wait, a slow flush, a 1,000-run batch) or its thread has died, they take
     * calls beside it, as free writers did.
     */
    static final long STUCK_MS = 20;
    private volatile Thread primary;
    /** When the primary took its current group off the queue; 0 once the group and its effects are done. */
    private volatile long primaryWritingSince;

    /** Nanos until a standby looks again; 0 when the primary is stuck or gone and standbys write. */
    private long standbyWait() {
        Thread p = primary;
        if (p == null || !p.isAlive()) return 0;
        long since = primaryWritingSince;
        if (since == 0) return TimeUnit.MILLISECONDS.toNanos(100); // between groups: barely wake
        long left = TimeUnit.MILLISECONDS.toNanos(STUCK_MS) - (System.nanoTime() - since);
        return Math.max(0, left);
    }

    /** The group-commit writer loop: the primary's, or a standby's ({@link #STUCK_MS}). */
    void writerLoop(boolean isPrimary) {
        if (isPrimary) primary = Thread.currentThread();
        List<Pending> batch = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            try {
                Pending first;
                if (isPrimary) {
                    first = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (first != null) primaryWritingSince = System.nanoTime();
                } else {
                    long wait = standbyWait();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(this, wait);
                        // An interrupt ends the loop as it does the primary's poll (park would not wait again).
                        if (Thread.currentThread().isInterrupted()) break;
                        continue;
                    }
                    first = queue.poll(STUCK_MS, TimeUnit.MILLISECONDS);
                }
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, MAX_GROUP - 1);
                engine.apply(writeGroup(batch, null, true));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (StoreException e) {
                if (batch.size() > 1 && !e.isTransient()) {
                    // One bad item must not fail the others it happened to be grouped with.
                    for (Pending p : batch) {
                        try {
                            engine.apply(writeGroup(List.of(p), null, true));
                        } catch (RuntimeException single) {
                            p.result().completeExceptionally(single);
                        }
                    }
                } else {
                    for (Pending p : batch) p.result().completeExceptionally(e);
                }
            } catch (RuntimeException e) {
                for (Pending p : batch) p.result().completeExceptionally(e);
            } finally {
                if (isPrimary) primaryWritingSince = 0;
                batch.clear();
            }
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.result().completeExceptionally(new EngineException(EngineException.Kind.UNAVAILABLE, "server is shutting down"));
        }
    }

    /** A root step that goes straight to a worker whose slot was reserved before the transaction. */
    private record Direct(int index, StepDefinition step, WorkerSession session) {}

    private record Written(List<InsertedRun> runs, List<NewTask> tasks, List<Long> taskIds) {}

    /**
     * Writes a group of triggers. {@code independent}: the runs come from separate calls (the writer
     * loop), so one may fail alone; otherwise the group is all-or-none (a batch call, or work in
     * {@code also}).
     */
    private Effects writeGroup(List<Pending> batch, AlsoInTx also, boolean independent) {
        long t0 = System.nanoTime();
        // Direct dispatch: a root step whose action has no backlog goes to a worker with a free slot in
        // this same transaction, saving the claim round trip (and its writes) on the path to the worker.
        Map<String, Direct> direct = new HashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            for (String root : p.dag().roots()) {
                StepDefinition s = p.dag().step(root);
                String action = p.dag().name() + "/" + root;
                // Rate-limited steps take their units when claimed, so they never skip the queue.
                if (!Dag.plain(s) || s.getConcurrencyCount() > 0 || s.getRateLimitsCount() > 0 || !p.groups().isEmpty()
                        || backlog.has(p.run().tenantId(), action)) continue;
                if (Affinity.constrains(p.dag(), s)) continue; // who may run it is the claim's decision
                WorkerSession w = registry.reserveFor(p.run().tenantId(), action, Dag.slotCost(s));
                if (w != null) direct.put(i + "/" + root, new Direct(i, s, w));
            }
        }
        long leaseMs = settings.leaseTimeout().toMillis();
        List<NewRun> rows = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            NewRun r = batch.get(i).run();
            boolean started = false;
            for (String root : batch.get(i).dag().roots()) started |= direct.containsKey(i + "/" + root);
            rows.add(started ? r.asStarted() : r);
        }
        boolean plain = !batch.isEmpty(); // no run passes a gate and every root is queued as it is
        for (Pending p : batch) plain &= p.groups().isEmpty() && p.dag().plainRoots();
        Written written;
        Effects fx = new Effects();
        try {
            try {
                written = plain && also == null && independent ? writePlain(batch, rows, direct, leaseMs, true)
                        : writeInTx(batch, rows, direct, leaseMs, plain, also, independent, fx, true);
            } catch (StoreException e) {
                // A big batch goes in by COPY, which cannot skip a run id that exists (a retried request):
                // then the batch is written again by the insert, which returns the existing runs.
                if (!e.isUniqueViolation() || batch.size() < RunQueries.COPY_MIN) throw e;
                written = plain && also == null && independent ? writePlain(batch, rows, direct, leaseMs, false)
                        : writeInTx(batch, rows, direct, leaseMs, plain, also, independent, fx, false);
            }
        } catch (RuntimeException e) {
            for (Direct d : direct.values()) d.session().unreserve(Dag.slotCost(d.step()));
            throw e;
        }
        stats.triggerGroups.increment();
        stats.triggeredRuns.add(batch.size());
        stats.triggerNanos.add(System.nanoTime() - t0);
        return afterCommit(batch, direct, written, fx);
    }

    /**
     * The common case: runs that need nothing but their rows, written by one autocommitted statement
     * (one round trip). Runs whose key or id already exists are looked up afterwards; a run whose
     * client-chosen id belongs to another tenant fails alone (id null in the result).
     */
    private Written writePlain(List<Pending> batch, List<NewRun> rows, Map<String, Direct> direct, long leaseMs, boolean copy) {
        List<NewStepRun> stepRows = new ArrayList<>();
        List<NewTask> taskRows = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) addSteps(batch.get(i), i, direct, stepRows, taskRows);
        if (copy && RunQueries.copyable(rows, taskRows)) {
            RunQueries.Triggered c = db.inInsertTx(tx -> runs.copyWithSteps(tx, rows, stepRows, taskRows, leaseMs));
            List<InsertedRun> all = new ArrayList<>(rows.size());
            for (NewRun r : rows) all.add(new InsertedRun(r.id(), true)); // COPY writes every row or fails
            return kept(all, c, taskRows);
        }
        RunQueries.Triggered t = db.inOneStatement(tx -> runs.insertWithSteps(tx, rows, stepRows, taskRows, leaseMs));
        List<InsertedRun> ins;
        if (t.all(rows)) {
            ins = new ArrayList<>(rows.size());
            for (NewRun r : rows) ins.add(new InsertedRun(r.id(), true));
        } else {
            ins = db.inTx(tx -> runs.outcome(tx, rows, t.inserted()));
        }
        return kept(ins, t, taskRows);
    }

    /** The tasks of the runs that were inserted, with the ids of those leased at once. */
    private static Written kept(List<InsertedRun> ins, RunQueries.Triggered t, List<NewTask> taskRows) {
        List<NewTask> kept = new ArrayList<>(taskRows.size());
        List<Long> keptIds = new ArrayList<>(taskRows.size());
        for (int k = 0; k < taskRows.size(); k++) {
            if (!t.inserted().contains(taskRows.get(k).runId())) continue;
            kept.add(taskRows.get(k));
            keptIds.add(t.leasedTaskIds().get(k));
        }
        return new Written(ins, kept, keptIds);
    }

    /** Triggers that share a transaction with other work, must be all-or-none, or pass gates and waits. */
    private Written writeInTx(List<Pending> batch, List<NewRun> rows, Map<String, Direct> direct, long leaseMs,
                              boolean plain, AlsoInTx also, boolean independent, Effects fx, boolean copy) {
        // Without other work in the transaction it is the inserts below: on the insert pool, whose
        // connections keep their generic plans (see Database), until a gate or a wait needs a scan.
        Database.TxBody<Written> body = tx -> {
                fx.clear(); // inTx may retry the whole transaction (deadlock, serialization)
                if (also != null) also.run(tx, fx);
                if (batch.isEmpty()) return new Written(List.of(), List.of(), List.of());
                if (plain) {
                    // Every root goes straight to the queue or a worker: one statement writes it all.
                    List<NewStepRun> stepRows = new ArrayList<>();
                    List<NewTask> taskRows = new ArrayList<>();
                    for (int i = 0; i < batch.size(); i++) addSteps(batch.get(i), i, direct, stepRows, taskRows);
                    RunQueries.Triggered t = copy && RunQueries.copyable(rows, taskRows)
                            ? runs.copyWithSteps(tx, rows, stepRows, taskRows, leaseMs)
                            : runs.insertWithSteps(tx, rows, stepRows, taskRows, leaseMs);
                    List<InsertedRun> ins = runs.outcome(tx, rows, t.inserted());
                    if (!independent) allOrNone(ins, rows);
                    return kept(ins, t, taskRows);
                }
                List<InsertedRun> ins = runs.insert(tx, rows);
                if (!independent) allOrNone(ins, rows);
                List<NewStepRun> stepRows = new ArrayList<>();
                List<NewTask> taskRows = new ArrayList<>();
                List<RunProgress.Ready> special = new ArrayList<>();
                Map<UUID, List<RunProgress.Ready>> gatedRoots = new java.util.LinkedHashMap<>();
                Map<String, List<Gate.Arrival>> arrivals = new java.util.LinkedHashMap<>();
                for (int i = 0; i < batch.size(); i++) {
                    if (!ins.get(i).created()) continue;
                    Pending p = batch.get(i);
                    for (StepDefinition s : p.dag().steps()) {
                        boolean root = s.getParentsCount() == 0;
                        NewStepRun row = stepRow(p, i, s, direct);
                        UUID worker = row.workerId();
                        stepRows.add(row);
                        if (root) {
                            RunProgress.Ready r = new RunProgress.Ready(p.run().tenantId(), p.run().id(), p.dag(), s.getName(),
                                    p.run().priority(), 0);
                            if (!p.groups().isEmpty()) {
                                gatedRoots.computeIfAbsent(p.run().id(), k -> new ArrayList<>()).add(r);
                                continue;
                            }
                            if (!Dag.plain(s) || s.getConcurrencyCount() > 0) {
                                special.add(r); // a root that waits, may be skipped or is gated: decided below
                                continue;
                            }
                            NewTask t = RunProgress.newTask(r);
                            taskRows.add(worker == null ? t : t.leasedTo(worker));
                        }
                    }
                }
                if (!stepRows.isEmpty()) steps.insert(tx, stepRows);
                List<Long> ids = taskRows.isEmpty() ? List.of() : tasks.insert(tx, taskRows, leaseMs, true);
                if (!gatedRoots.isEmpty() || !special.isEmpty()) tx.customPlans();
                // Runs of workflows with concurrency groups pass the gate first: in, waiting, or cancelled.
                for (int i = 0; i < batch.size(); i++) {
                    Pending p = batch.get(i);
                    if (!ins.get(i).created() || p.groups().isEmpty()) continue;
                    arrivals.computeIfAbsent(p.run().tenantId(), t -> new ArrayList<>())
                            .add(new Gate.Arrival(p.run().tenantId(), p.run().id(), "", p.groups()));
                }
                for (List<Gate.Arrival> forTenant : arrivals.values()) {
                    List<GatePolicy.Outcome> outcomes = progress.gate().arrive(tx, forTenant, fx);
                    for (int k = 0; k < forTenant.size(); k++) {
                        UUID runId = forTenant.get(k).runId();
                        switch (outcomes.get(k)) {
                            case ADMIT -> special.addAll(gatedRoots.getOrDefault(runId, List.of()));
                            case WAIT -> { }
                            case CANCEL -> progress.endRun(tx, runId, "cancelled",
                                    "concurrency limit reached (cancel_newest)", fx);
                        }
                    }
                }
                progress.ready(tx, special, fx);
                return new Written(ins, taskRows, ids);
        };
        return also == null ? db.inInsertTx(body) : db.inTx(body);
    }

    /** A run of an all-or-none group whose id is taken fails the group (a run failing alone: afterCommit). */
    private static void allOrNone(List<InsertedRun> ins, List<NewRun> rows) {
        for (int i = 0; i < ins.size(); i++) {
            if (ins.get(i).id() == null) throw takenId(rows.get(i).id());
        }
    }

    private static EngineException takenId(UUID id) {
        return new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                "run_id: " + id + " is already the id of another run; choose another id");
    }

    /** Answers the callers and hands the direct steps to their workers (after commit). */
    private Effects afterCommit(List<Pending> batch, Map<String, Direct> direct, Written written, Effects fx) {
        // The steps go out before the callers are answered: an answer may be written on this thread
        // (a TriggerRun call answered from its future), and the step's start should not wait for it.
        try {
            sendDirect(batch, direct, written, fx);
        } finally {
            for (int i = 0; i < batch.size(); i++) {
                InsertedRun r = written.runs().get(i);
                if (r.id() == null) batch.get(i).result().completeExceptionally(takenId(batch.get(i).run().id()));
                else batch.get(i).result().complete(new TriggerResult(r.id().toString(), r.created()));
            }
        }
        return fx;
    }

    private void sendDirect(List<Pending> batch, Map<String, Direct> direct, Written written, Effects fx) {
        // Hand the direct steps over (after commit); queued ones wake the dispatcher.
        Map<WorkerSession, List<StartStep>> sends = new java.util.LinkedHashMap<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        Map<UUID, Integer> batchIndex = new HashMap<>();
        for (int i = 0; i < batch.size(); i++) batchIndex.put(batch.get(i).run().id(), i);
        for (int k = 0; k < written.tasks().size(); k++) {
            NewTask t = written.tasks().get(k);
            if (t.leasedTo() == null) {
                backlog.mark(t.tenantId(), t.action());
                fx.workQueued = true;
                continue;
            }
            int i = batchIndex.get(t.runId());
            Direct d = direct.get(i + "/" + t.stepName());
            used.add(i + "/" + t.stepName());
            long taskId = written.taskIds().get(k);
            Pending p = batch.get(i);
            d.session().bind(taskId, t.slotCost(), p.dag().singleStep(t.stepName()));
            sends.computeIfAbsent(d.session(), w -> new ArrayList<>()).add(StartStep.newBuilder()
                    .setTaskId(taskId).setAttempt(1).setRunId(t.runId().toString())
                    .setWorkflowName(t.workflowName()).setWorkflowVersion(t.workflowVersion()).setStepName(t.stepName())
                    .setInputJson(p.run().inputJson()).putAllMetadata(p.metadata())
                    .setExecutionTimeoutMs(t.executionTimeoutMs()).setMaxAttempts(t.maxAttempts())
                    .setSlotCost(t.slotCost()).build());
        }
        for (var e : direct.entrySet()) {
            if (!used.contains(e.getKey())) e.getValue().session().unreserve(Dag.slotCost(e.getValue().step()));
        }
        for (var e : sends.entrySet()) {
            List<Long> unsent = Dispatch.send(e.getKey(), e.getValue());
            if (!unsent.isEmpty()) {
                giveBack(unsent);
                fx.workQueued = true;
            }
        }
    }

    /** A new run's row for step {@code s}: a root handed to a worker directly runs at once, others wait. */
    private static NewStepRun stepRow(Pending p, int i, StepDefinition s, Map<String, Direct> direct) {
        boolean root = s.getParentsCount() == 0;
        Direct d = root ? direct.get(i + "/" + s.getName()) : null;
        String status = d != null ? "running" : root ? "queued" : "pending";
        return new NewStepRun(p.run().id(), s.getName(), status, s.getParentsCount(), d == null ? null : d.session().id);
    }

    /** The step rows of a run without gates whose roots are plain, and its root tasks (see writeGroup). */
    private static void addSteps(Pending p, int i, Map<String, Direct> direct, List<NewStepRun> stepRows, List<NewTask> taskRows) {
        for (StepDefinition s : p.dag().steps()) {
            NewStepRun row = stepRow(p, i, s, direct);
            UUID worker = row.workerId();
            stepRows.add(row);
            if (s.getParentsCount() == 0) {
                NewTask t = RunProgress.newTask(new RunProgress.Ready(p.run().tenantId(), p.run().id(), p.dag(), s.getName(),
                        p.run().priority(), 0));
                taskRows.add(worker == null ? t : t.leasedTo(worker));
            }
        }
    }

    private void giveBack(List<Long> taskIds) {
        Dispatch.giveBack(db, taskIds);
    }

    public RunView get(String tenantId, String runIdText) {
        UUID id = Ids.parse("run_id", runIdText);
        return db.inTx(tx -> {
            RunRow run = runs.get(tx, tenantId, id).orElseThrow(() -> EngineException.notFound("run_id: no run " + id));
            return view(run, steps.forRun(tx, id), steps.attempts(tx, id));
        });
    }

    public List<RunView> list(String tenantId, String workflowName, String status, String beforeRunId, int limit) {
        Text.check("workflow_name", workflowName);
        if (status != null && !Set.of("queued", "running", "succeeded", "failed", "cancelled").contains(status)) {
            throw EngineException.invalid("status: unknown status '" + status + "'");
        }
        if (limit < 0 || limit > 1000) throw EngineException.invalid("limit: must be between 1 and 1000");
        int lim = limit == 0 ? 50 : limit;
        UUID before = beforeRunId == null || beforeRunId.isEmpty() ? null : Ids.parse("before_run_id", beforeRunId);
        String wf = workflowName == null || workflowName.isEmpty() ? null : workflowName;
        return db.inTx(tx -> runs.list(tx, tenantId, wf, status, before, lim)).stream()
                .map(r -> view(r, null, null)).toList();
    }

    /** Waits up to {@code timeout} for the run to finish and returns it as it then is. */
    public RunView await(String tenantId, String runIdText, Duration timeout) {
        UUID id = Ids.parse("run_id", runIdText);
        RunView now = get(tenantId, runIdText);
        if (FINAL.contains(now.status())) return now;
        CompletableFuture<Void> f = watcher.watch(id);
        try {
            now = get(tenantId, runIdText); // re-check: it may have finished before we watched
            if (FINAL.contains(now.status())) return now;
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // fall through: return the current state
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } finally {
            watcher.unwatch(id, f);
        }
        return get(tenantId, runIdText);
    }

    /** Cancels a queued or running run; false when it had already finished. */
    public boolean cancel(String tenantId, String runIdText) {
        UUID id = Ids.parse("run_id", runIdText);
        Effects fx = db.inTx(tx -> {
            runs.get(tx, tenantId, id).orElseThrow(() -> EngineException.notFound("run_id: no run " + id));
            Effects e = new Effects();
            progress.endRun(tx, id, "cancelled", "cancelled by request", e);
            return e;
        });
        engine.apply(fx);
        return fx.finishedRuns.contains(id);
    }

    void stop() {
        running = false;
    }

    private RunView view(RunRow r, List<StepRunRow> stepRows, List<AttemptRow> attempts) {
        List<StepView> sv = List.of();
        if (stepRows != null) {
            Dag dag = null;
            try {
                dag = catalog.resolve(r.tenantId(), r.workflowName(), r.workflowVersion());
            } catch (EngineException ignored) {
                // definition gone: show the steps without their parents
            }
            List<StepView> list = new ArrayList<>();
            for (StepRunRow s : stepRows) {
                List<String> parents = dag != null && dag.hasStep(s.stepName()) ? dag.step(s.stepName()).getParentsList() : List.of();
                list.add(new StepView(s.stepName(), s.status(), s.attempts(), s.outputJson(), s.error(),
                        s.workerId() == null ? null : s.workerId().toString(), s.startedAt(), s.finishedAt(), parents));
            }
            if (dag != null) {
                // Definition order is parents-first (workers send it so), which reads like the workflow.
                java.util.Map<String, Integer> order = new HashMap<>();
                int i = 0;
                for (StepDefinition s : dag.steps()) order.put(s.getName(), i++);
                list.sort(java.util.Comparator.comparingInt(s -> order.getOrDefault(s.name(), Integer.MAX_VALUE)));
            }
            sv = list;
        }
        List<AttemptView> av = attempts == null ? List.of() : attempts.stream()
                .map(a -> new AttemptView(a.stepName(), a.attempt(), a.status(), a.error(), a.errorType(), a.stackTrace(),
                        a.workerId() == null ? null : a.workerId().toString(), a.finishedAt())).toList();
        return new RunView(r.id().toString(), r.workflowName(), r.workflowVersion(), r.status(), r.inputJson(),
                r.outputJson(), r.error(), metadata(r.metadataJson()), r.priority(), r.idempotencyKey(),
                r.parentRunId() == null ? null : r.parentRunId().toString(), r.createdAt(), r.startedAt(),
                r.finishedAt(), sv, av, r.parentStep(), r.childIndex(), r.eventId() == null ? null : r.eventId().toString());
    }

    private static Map<String, String> metadata(String json) {
        try {
            return json == null ? Map.of() : JSON.readValue(json, new TypeReference<HashMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    /** The result of a submitted trigger; its failure as an EngineException (store failures classified). */
    public static TriggerResult await(CompletableFuture<TriggerResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof EngineException ee) throw ee;
            if (c instanceof StoreException se) {
                log.warn("Trigger failed: {}", se.getMessage());
                throw (EngineException) EngineException.classify(se);
            }
            throw new IllegalStateException(c);
        }
    }
}
