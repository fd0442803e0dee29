package dev.drover.server.engine;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreException;
import dev.drover.server.store.TaskQueries;
import dev.drover.server.store.TaskQueries.Claimed;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands ready steps to connected workers. One loop per server: for every worker with free slots it
 * claims, in one transaction, as many ready tasks as the worker has room for (batch claim), marks them
 * running, and streams the assignments. It sleeps until something changes (a trigger, a finished step,
 * a worker joining) or the poll interval passes, so an idle server runs no queries in a tight loop.
 */
final class Dispatcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BATCH = 500;
    /**
     * Slots a claim reserves when no action of the worker is known to have queued work: the claim
     * holds its reservation for the length of its transaction, and a full one made every idle claim
     * (after each report, each notification) take every free slot from direct dispatch, which then
     * queued ~15% of new runs at 100 runs/s (each waiting for a claim). A probe that fills up marks
     * the backlog, so the next claim is a full batch again.
     */
    private static final int PROBE_BATCH = 16;

    private final Database db;
    private final WorkerRegistry registry;
    private final WorkflowCatalog catalog;
    private final EngineSettings settings;
    private final TaskQueries tasks = new TaskQueries();
    private final StepRunQueries steps = new StepRunQueries();
    // Claims are reserved-then-bound, so several threads could serve one worker; on 2 cores one thread
    // measured best (burn-down 15k/s with 1, 12-13k/s with 2).
    static final int THREADS = 1;
    private final BlockingQueue<Boolean> signal = new ArrayBlockingQueue<>(THREADS);
    private volatile boolean running = true;

    private final EngineStats stats;

    private final Backlog backlog;
    private final RateLimits rateLimits;

    Dispatcher(Database db, WorkerRegistry registry, WorkflowCatalog catalog, EngineSettings settings, EngineStats stats,
               Backlog backlog, RateLimits rateLimits) {
        this.rateLimits = rateLimits;
        this.stats = stats;
        this.backlog = backlog;
        this.db = db;
        this.registry = registry;
        this.catalog = catalog;
        this.settings = settings;
    }

    void wake() {
        // One token per dispatcher thread (offers beyond capacity are dropped: they are already awake).
        for (int i = 0; i < THREADS; i++) signal.offer(Boolean.TRUE);
    }

    void stop() {
        running = false;
        wake();
    }

    @Override
    public void run() {
        long backoffMs = 0;
        while (running) {
            try {
                boolean more = false;
                for (WorkerSession s : registry.sessions()) {
                    if (!running) break;
                    if (!s.open || !s.accepting()) continue; // paused or draining: no new work
                    // Reserve first: several dispatcher threads may serve the same worker at once.
                    int reserved = s.reserveUpTo(knownBacklog(s) ? MAX_BATCH : PROBE_BATCH);
                    if (reserved == 0) continue;
                    int n;
                    try {
                        n = dispatchTo(s, reserved);
                    } catch (RuntimeException e) {
                        s.unreserve(reserved);
                        throw e;
                    }
                    if (n == reserved) more = true;
                }
                backoffMs = 0;
                if (!more) signal.poll(settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (StoreException e) {
                // Database unreachable: keep trying, gently; nothing is lost, the tasks stay queued.
                backoffMs = Math.min(5_000, Math.max(100, backoffMs * 2));
                log.warn("Dispatch paused {} ms: {}", backoffMs, e.getMessage());
                sleep(backoffMs);
            } catch (RuntimeException e) {
                log.error("Dispatch loop error", e);
                sleep(500);
            }
        }
    }

    private boolean singleStep(String tenantId, StartStep st) {
        try {
            return catalog.resolve(tenantId, st.getWorkflowName(), st.getWorkflowVersion()).singleStep(st.getStepName());
        } catch (EngineException e) {
            return false; // the definition is gone: the general path copes with that
        }
    }

    private boolean knownBacklog(WorkerSession s) {
        for (String a : s.actions) if (backlog.has(s.tenantId, a)) return true;
        return false;
    }

    /**
     * Claims up to {@code limit} tasks for the worker, whose {@code limit} slots the caller reserved,
     * and sends them; unused reserved slots are given back. Returns how many were claimed.
     */
    private int dispatchTo(WorkerSession s, int limit) {
        long t0 = System.nanoTime();
        if (!knownBacklog(s) && !db.inOneKeyedStatement(tx -> tasks.anyReady(tx, s.tenantId, s.actions))) {
            s.unreserve(limit);
            return 0;
        }
        RateLimits.Admission[] admission = new RateLimits.Admission[1];
        // The claims are keyed (see TaskQueries.CLAIM), and so are the reads of parent outputs and contexts;
        // the rarer statements that join or read more than one row per key are planned as on the main pool
        // (customPlans).
        List<StartStep> batch = db.inKeyedTx(tx -> {
            // Round-robin over the worker's actions, starting one further each time, so no workflow starves.
            List<Claimed> claimed = new ArrayList<>();
            int start = s.nextActionOffset();
            for (int k = 0; k < s.actions.length && claimed.size() < limit; k++) {
                String action = s.actions[(start + k) % s.actions.length];
                if (rateLimits.holding(s.tenantId, action)) continue;
                int want = limit - claimed.size();
                List<Claimed> got = tasks.claim(tx, s.tenantId, action, want, s.id, s.labelsJson, settings.leaseTimeout().toMillis());
                if (got.size() < want) backlog.clear(s.tenantId, action);
                else backlog.mark(s.tenantId, action); // there may be more: the next claim takes a full batch
                claimed.addAll(got);
            }
            Long[] firstHard = claimed.stream().filter(Claimed::firstOfHardSticky).map(c -> c.task().id()).toArray(Long[]::new);
            if (firstHard.length > 0) {
                tx.customPlans();
                java.util.Set<Long> back = tasks.keepHardSticky(tx, s.id, firstHard);
                if (!back.isEmpty()) {
                    log.debug("Worker {} gave back {} step(s) of hard-sticky runs taken by another worker", s.id, back.size());
                    claimed.removeIf(c -> back.contains(c.task().id()));
                }
            }
            if (claimed.isEmpty()) return List.<StartStep>of();
            // Rate limits: units are taken here, in the claim's transaction; tasks that must wait go back
            // to the queue (no query at all when no claimed step declares a rate limit).
            admission[0] = rateLimits.admit(tx, claimed);
            claimed = admission[0].admitted();
            if (claimed.isEmpty()) return List.<StartStep>of();
            List<UUID> parentRuns = new ArrayList<>();
            List<String> parentSteps = new ArrayList<>();
            List<UUID> contextRuns = new ArrayList<>();
            List<String> contextSteps = new ArrayList<>();
            for (Claimed c : claimed) {
                TaskRow t = c.task();
                Dag dag = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion());
                StepDefinition def = dag.step(t.stepName());
                if (def == null) continue;
                if (!def.getWait().getEvent().isEmpty() || def == dag.onFailure()) {
                    contextRuns.add(t.runId());
                    contextSteps.add(t.stepName());
                }
                for (String p : def.getParentsList()) {
                    parentRuns.add(t.runId());
                    parentSteps.add(p);
                }
            }
            // Parent outputs and contexts are read by primary key (KeyedPlansTest): keyed plans stay.
            Map<UUID, Map<String, String>> parentOutputs = parentRuns.isEmpty() ? Map.of()
                    : steps.outputs(tx, parentRuns.toArray(UUID[]::new), parentSteps.toArray(String[]::new));
            Map<String, String> contexts = contextRuns.isEmpty() ? Map.of()
                    : steps.contexts(tx, contextRuns.toArray(UUID[]::new), contextSteps.toArray(String[]::new));
            List<StartStep> out = new ArrayList<>(claimed.size());
            for (Claimed c : claimed) {
                TaskRow t = c.task();
                StartStep.Builder b = StartStep.newBuilder()
                        .setTaskId(t.id()).setAttempt(t.attempt()).setRunId(t.runId().toString())
                        .setWorkflowName(t.workflowName()).setWorkflowVersion(t.workflowVersion())
                        .setStepName(t.stepName()).setInputJson(c.inputJson() == null ? "null" : c.inputJson())
                        .setExecutionTimeoutMs(t.executionTimeoutMs()).setMaxAttempts(t.maxAttempts())
                        .setSlotCost(t.slotCost());
                Map<String, String> po = parentOutputs.get(t.runId());
                if (po != null) {
                    StepDefinition def = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion()).step(t.stepName());
                    for (String p : def.getParentsList()) if (po.containsKey(p)) b.putParentOutputsJson(p, po.get(p));
                }
                b.putAllMetadata(metadata(c.metadataJson()));
                String context = contexts.get(t.runId() + "/" + t.stepName());
                if (context != null) b.setContextJson(context);
                for (RateLimits.Grant g : admission[0].grantsOf(t.id())) {
                    b.addRateLimitGrants(dev.drover.proto.v1.RateLimitGrant.newBuilder().setLimitName(g.limit()).setKey(g.key())
                            .setUnits(g.units()).setWindowStartMs(g.windowStartMs()).setWindowMs(g.windowMs()));
                }
                out.add(b.build());
            }
            return out;
        });
        rateLimits.afterCommit(admission[0]);
        if (batch.isEmpty()) {
            s.unreserve(limit);
            return 0;
        }
        stats.claimBatches.increment();
        stats.claimedTasks.add(batch.size());
        stats.claimNanos.add(System.nanoTime() - t0);
        // Bind the reserved slots before sending: a fast worker's report may arrive before send()
        // returns. A batch can hold heavier tasks than the reservation covers; those go back.
        int bound = 0;
        List<StartStep> fits = new ArrayList<>(batch.size());
        List<Long> unsent = new ArrayList<>();
        for (StartStep st : batch) {
            int cost = Math.max(1, st.getSlotCost());
            if (bound + cost <= limit) {
                s.bind(st.getTaskId(), cost, singleStep(s.tenantId, st));
                bound += cost;
                fits.add(st);
            } else {
                unsent.add(st.getTaskId());
            }
        }
        s.unreserve(limit - bound);
        if (!fits.isEmpty()) unsent.addAll(Dispatch.send(s, fits));
        if (!unsent.isEmpty()) {
            log.info("Worker {} went away; giving back {} unsent tasks", s.id, unsent.size());
            Dispatch.giveBack(db, unsent);
        }
        return batch.size();
    }

    static Map<String, String> metadata(String json) {
        if (json == null || json.equals("{}")) return Map.of();
        try {
            return JSON.readValue(json, new TypeReference<Map<String, String>>() {});
        } catch (Exception e) {
            return Map.of();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
