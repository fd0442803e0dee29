package dev.drover.server.engine;

import dev.drover.proto.v1.RateLimitUse;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.engine.RateLimitPolicy.Bucket;
import dev.drover.server.engine.RateLimitPolicy.BucketId;
import dev.drover.server.engine.RateLimitPolicy.Decision;
import dev.drover.server.engine.RateLimitPolicy.Outcome;
import dev.drover.server.engine.RateLimitPolicy.Use;
import dev.drover.server.engine.RateLimitPolicy.Why;
import dev.drover.server.engine.RateLimitPolicy.Write;
import dev.drover.server.store.Database;
import dev.drover.server.store.RateLimitQueries;
import dev.drover.server.store.RateLimitQueries.BucketRow;
import dev.drover.server.store.RateLimitQueries.LimitRow;
import dev.drover.server.store.RateLimitQueries.Locked;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.StoreTx;
import dev.drover.server.store.TaskQueries.Claimed;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rate limits: the API (create, change, inspect, delete, pause a key) and the acquisition of units
 * when the dispatcher hands steps to workers.
 *
 * <p>Acquisition happens in the claim transaction, right after the claim: the buckets the claimed
 * steps draw from are locked (in key order), the {@link RateLimitPolicy} decides, the units are
 * written, and the tasks that must wait are put back in the queue as if never claimed, available at
 * the start of the window that can have room (or the end of the pause). They hold no worker slot
 * (the dispatcher binds only the admitted ones) and the dispatcher does not spin on them: it is woken
 * when the earliest of them becomes available. Units are consumed per attempt: a retry consumes again.
 * A batch whose steps declare no rate limits costs no query here.
 *
 * <p>A step that names a limit that does not exist waits as if its capacity were 0 (see
 * ratelimits.proto for why), with a warning in the log once per limit.
 */
public final class RateLimits {
    private static final Logger log = LoggerFactory.getLogger(RateLimits.class);
    static final Set<String> KEY_VARIABLES = Set.of("input");
    static final Map<String, Long> WINDOWS = Map.of("second", 1_000L, "minute", 60_000L, "hour", 3_600_000L,
            "day", 86_400_000L);
    static final long MIN_WINDOW_MS = 100;
    static final long MAX_WINDOW_MS = 31L * 86_400_000L;
    static final long MAX_PAUSE_MS = 31L * 86_400_000L;
    static final int MAX_KEY_LENGTH = 500;
    /** A dispatcher stops claiming an action whose every step waits for a full global bucket at most this long. */
    static final long MAX_HOLD_MS = 1_000;

    private final Database db;
    private final WorkflowCatalog catalog;
    private final RateLimitQueries queries = new RateLimitQueries();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("drover-rate-limit-wake").daemon(true).factory());
    /** Wake-ups already scheduled, by due time (database clock, ms): many held-back batches share one. */
    private final ConcurrentSkipListSet<Long> wakes = new ConcurrentSkipListSet<>();
    /**
     * Actions not worth claiming for now: their steps all wait for full global buckets. Each entry is
     * {local nanoTime until, database ms it waits for}; the wake-up for that instant ends it too, so a
     * hold never outlasts the wake-up that should find its work.
     */
    private final Map<String, long[]> heldActions = new ConcurrentHashMap<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    private volatile Runnable wake = () -> { };

    RateLimits(Database db, WorkflowCatalog catalog) {
        this.db = db;
        this.catalog = catalog;
    }

    /** What to call when held-back work becomes available (the dispatcher's wake). */
    void onAvailable(Runnable wake) {
        this.wake = wake;
    }

    void stop() {
        timer.shutdownNow();
    }

    // ---- validation (called by Dag.of) ---------------------------------------------------------

    /** Checks the rate limits a step declares: names, units and key expressions. */
    static void validate(String field, StepDefinition step) {
        String where = " (step '" + Text.clip(step.getName(), 80) + "')";
        for (RateLimitUse u : step.getRateLimitsList()) {
            if (u.getLimitName().isBlank()) throw EngineException.invalid(field + ".limit_name: must not be empty" + where);
            Text.check(field + ".limit_name", u.getLimitName());
            if (u.getLimitName().length() > 200) throw EngineException.invalid(field + ".limit_name: at most 200 characters" + where);
            if (u.getUnits() < 0) throw EngineException.invalid(field + ".units: must not be negative" + where);
            if (!u.getKeyExpression().isEmpty()) {
                Expressions.compileKey(field + ".key_expression", u.getKeyExpression(), KEY_VARIABLES);
            }
        }
    }

    // ---- the API -------------------------------------------------------------------------------

    /** A limit with its usage in the current window; {@code buckets} as documented on RateLimit in ratelimits.proto. */
    public record LimitView(String name, int capacity, long windowMs, String window, Instant createdAt, Instant updatedAt,
                            long nowMs, long windowStartMs, int activeKeys, int pausedKeys, List<BucketView> buckets) {}

    /** One bucket: units used in the current window, and its pause (0 = none). */
    public record BucketView(String limitName, String key, int used, int remaining, long pausedUntilMs, String pauseReason) {}

    /**
     * Creates or changes a limit. {@code window} is second, minute, hour or day; when empty,
     * {@code windowMs} gives the length. Tasks held back by the limit are looked at again at once.
     */
    public LimitView put(String tenant, String name, int capacity, String window, long windowMs) {
        checkName(name);
        if (capacity < 1) throw EngineException.invalid("capacity: must be at least 1, got " + capacity);
        long ms;
        if (window != null && !window.isBlank()) {
            Long w = WINDOWS.get(window.trim().toLowerCase(Locale.ROOT));
            if (w == null) {
                throw EngineException.invalid("window: '" + Text.clip(window, 40) + "' is not one of second, minute, hour, day"
                        + " (or leave it empty and give window_ms)");
            }
            ms = w;
        } else if (windowMs == 0) {
            throw EngineException.invalid("window: required: second, minute, hour or day (or window_ms)");
        } else if (windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS) {
            throw EngineException.invalid("window_ms: must be between " + MIN_WINDOW_MS + " and " + MAX_WINDOW_MS
                    + " (31 days), got " + windowMs);
        } else {
            ms = windowMs;
        }
        LimitView v = db.inTx(tx -> {
            queries.upsert(tx, tenant, name, capacity, ms);
            queries.release(tx, tenant, name);
            return view(tx, tenant, name, 0);
        });
        changed(name);
        return v;
    }

    /** One limit with its global bucket, its {@code top} busiest keys (0 = 20) and its paused keys. */
    public LimitView get(String tenant, String name, int top) {
        checkName(name);
        if (top < 0) throw EngineException.invalid("top: must not be negative");
        int n = top == 0 ? 20 : Math.min(top, 1000);
        return db.inTx(tx -> view(tx, tenant, name, n));
    }

    /** Every limit, by name, with its global bucket. */
    public List<LimitView> list(String tenant) {
        return db.inTx(tx -> {
            List<LimitView> out = new ArrayList<>();
            for (LimitRow l : queries.list(tx, tenant)) out.add(view(tx, tenant, l.name(), -1));
            return out;
        });
    }

    public void delete(String tenant, String name) {
        checkName(name);
        boolean deleted = db.inTx(tx -> queries.delete(tx, tenant, name));
        if (!deleted) throw notFound(name);
        changed(name);
    }

    /**
     * Pauses a key of a limit for {@code durationMs} from now on the database clock (never shortening a
     * longer pause); 0 lifts the pause.
     */
    public BucketView pause(String tenant, String name, String key, long durationMs, String reason) {
        checkName(name);
        String k = key == null ? "" : key;
        Text.check("key", k);
        if (k.length() > MAX_KEY_LENGTH) throw EngineException.invalid("key: at most " + MAX_KEY_LENGTH + " characters");
        if (durationMs < 0 || durationMs > MAX_PAUSE_MS) {
            throw EngineException.invalid("duration_ms: must be between 0 (lift the pause) and " + MAX_PAUSE_MS + " (31 days), got "
                    + durationMs);
        }
        String why = reason == null || reason.isBlank() ? null : reason.strip();
        Text.check("reason", why);
        if (why != null && why.length() > 500) why = why.substring(0, 500);
        String r = why;
        BucketView v = db.inTx(tx -> {
            LimitRow l = queries.get(tx, tenant, name).orElseThrow(() -> notFound(name));
            BucketRow b = queries.pause(tx, tenant, name, k, durationMs, r);
            if (durationMs == 0) queries.release(tx, tenant, name);
            long now = queries.nowMs(tx);
            return bucket(b, l, now);
        });
        if (durationMs == 0) changed(name);
        return v;
    }

    /** Deletes buckets of past windows that are not paused (a dynamic limit leaves one row per key). */
    int prune() {
        int total = 0;
        int n;
        do {
            n = db.inTx(tx -> tx.tryExclusive("drover-rate-limit-prune") ? queries.prune(tx, 1000) : 0);
            total += n;
        } while (n == 1000);
        return total;
    }

    private LimitView view(StoreTx tx, String tenant, String name, int top) {
        LimitRow l = queries.get(tx, tenant, name).orElseThrow(() -> notFound(name));
        long now = queries.nowMs(tx);
        long start = RateLimitPolicy.windowStart(now, l.windowMs());
        List<BucketRow> rows = queries.interesting(tx, tenant, name, start, l.windowMs(), Math.max(top, 0));
        Map<String, BucketView> byKey = new LinkedHashMap<>();
        byKey.put("", bucket(new BucketRow(name, "", 0, 0, 0, 0, null), l, now)); // the global bucket, even if never used
        for (BucketRow b : rows) {
            if (top < 0 && !b.key().isEmpty()) continue;
            byKey.put(b.key(), bucket(b, l, now));
        }
        List<BucketView> buckets = new ArrayList<>(byKey.values());
        buckets.sort((a, b) -> a.key().isEmpty() != b.key().isEmpty() ? (a.key().isEmpty() ? -1 : 1)
                : a.used() != b.used() ? Integer.compare(b.used(), a.used()) : a.key().compareTo(b.key()));
        int[] counts = queries.counts(tx, tenant, name, start, l.windowMs());
        String window = WINDOWS.entrySet().stream().filter(e -> e.getValue() == l.windowMs()).map(Map.Entry::getKey)
                .findFirst().orElse("");
        return new LimitView(l.name(), l.capacity(), l.windowMs(), window, l.createdAt(), l.updatedAt(), now, start,
                counts[0], counts[1], buckets);
    }

    private static BucketView bucket(BucketRow b, LimitRow l, long nowMs) {
        long start = RateLimitPolicy.windowStart(nowMs, l.windowMs());
        int used = RateLimitPolicy.usedIn(new Bucket(l.capacity(), l.windowMs(), b.windowStart(), b.windowMs(), b.used(), 0),
                start, l.windowMs());
        boolean paused = b.pausedUntilMs() > nowMs;
        return new BucketView(b.limitName(), b.key(), used, Math.max(0, l.capacity() - used), paused ? b.pausedUntilMs() : 0,
                paused ? b.pauseReason() : null);
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank()) throw EngineException.invalid("name: required, the rate limit's name");
        Text.check("name", name);
        if (name.length() > 200) throw EngineException.invalid("name: at most 200 characters");
    }

    private static EngineException notFound(String name) {
        return EngineException.notFound("name: no rate limit named '" + Text.clip(name, 100) + "'");
    }

    /** A limit changed here: held actions are looked at again now (other replicas within {@link #MAX_HOLD_MS}). */
    private void changed(String name) {
        heldActions.clear();
        warned.remove(name);
        wake.run();
    }

    // ---- acquisition (called by the Dispatcher in the claim transaction) ------------------------

    /**
     * The outcome of {@link #admit}: the tasks that go, and what the dispatcher does after commit
     * ({@link #afterCommit}) about those held back.
     */
    record Admission(List<Claimed> admitted, int heldBack, long nowMs, long earliestRetryMs, Map<String, Long> holdActionsUntilMs,
                     Map<String, Why> problems, Map<Long, List<Grant>> grants) {
        static Admission all(List<Claimed> claimed) {
            return new Admission(claimed, 0, 0, 0, Map.of(), Map.of(), Map.of());
        }

        /** The units an admitted task was granted (none when its step declares no rate limit). */
        List<Grant> grantsOf(long taskId) {
            return grants.getOrDefault(taskId, List.of());
        }
    }

    /**
     * Units of one bucket granted to an admitted task, in the window starting at {@code windowStartMs}
     * (database clock): sent to the worker with the step (StartStep.rate_limit_grants).
     */
    record Grant(String limit, String key, int units, long windowStartMs, long windowMs) {}

    /** True while the dispatcher should not claim this action (every step of it waits for a full global bucket). */
    boolean holding(String tenantId, String action) {
        long[] hold = heldActions.get(Backlog.key(tenantId, action));
        if (hold == null) return false;
        if (System.nanoTime() - hold[0] < 0) return true;
        heldActions.remove(Backlog.key(tenantId, action), hold);
        return false;
    }

    /**
     * Takes the units of the claimed tasks whose steps declare rate limits, in claim order (older
     * first); puts back in the queue those that cannot have them now. Returns the tasks that go.
     */
    Admission admit(StoreTx tx, List<Claimed> claimed) {
        List<List<Use>> uses = null;
        for (int i = 0; i < claimed.size(); i++) {
            TaskRow t = claimed.get(i).task();
            StepDefinition def = catalog.resolve(t.tenantId(), t.workflowName(), t.workflowVersion()).step(t.stepName());
            if (def == null || def.getRateLimitsCount() == 0) continue;
            if (uses == null) {
                uses = new ArrayList<>(claimed.size());
                for (int j = 0; j < claimed.size(); j++) uses.add(List.of());
            }
            uses.set(i, uses(def, claimed.get(i).inputJson()));
        }
        if (uses == null) return Admission.all(claimed);
        tx.customPlans(); // the claim's transaction is on the keyed pool: buckets are read and joined below
        // Claims are per tenant (one worker's batch), so one tenant's buckets.
        String tenant = claimed.get(0).task().tenantId();
        TreeMap<BucketId, Boolean> ids = new TreeMap<>();
        for (List<Use> us : uses) for (Use u : us) ids.put(u.bucket(), true);
        String[] names = new String[ids.size()];
        String[] keys = new String[ids.size()];
        int k = 0;
        for (BucketId id : ids.keySet()) {
            names[k] = id.limit();
            keys[k++] = id.key();
        }
        Map<BucketId, Bucket> buckets = new HashMap<>();
        long now = 0;
        for (Locked b : queries.lockBuckets(tx, tenant, names, keys)) {
            buckets.put(new BucketId(b.limitName(), b.key()), new Bucket(b.capacity(), b.limitWindowMs(), b.windowStart(),
                    b.windowMs(), b.used(), b.pausedUntilMs()));
            now = Math.max(now, b.nowMs()); // after the last lock: a wait for a lock cannot date the decision back
        }
        if (now == 0) now = queries.nowMs(tx); // none of the limits exists
        Outcome o = RateLimitPolicy.decide(uses, buckets, now);
        if (!o.writes().isEmpty()) {
            int n = o.writes().size();
            String[] wn = new String[n], wk = new String[n];
            Long[] ws = new Long[n], wms = new Long[n];
            Integer[] wu = new Integer[n];
            for (int i = 0; i < n; i++) {
                Write w = o.writes().get(i);
                wn[i] = w.bucket().limit();
                wk[i] = w.bucket().key();
                ws[i] = w.windowStart();
                wms[i] = w.windowMs();
                wu[i] = w.used();
            }
            queries.writeBuckets(tx, tenant, wn, wk, ws, wms, wu);
        }
        List<Claimed> admitted = new ArrayList<>(claimed.size());
        List<Long> heldIds = new ArrayList<>();
        List<Long> heldAt = new ArrayList<>();
        List<String> heldBy = new ArrayList<>();
        long earliest = Long.MAX_VALUE;
        // Per action: the earliest retry if every claimed task of it waits for global buckets only, else -1.
        Map<String, Long> hold = new HashMap<>();
        Map<String, Why> problems = new HashMap<>();
        Map<Long, List<Grant>> grants = new HashMap<>();
        for (int i = 0; i < claimed.size(); i++) {
            Claimed c = claimed.get(i);
            Decision d = o.decisions().get(i);
            String action = Backlog.key(tenant, c.task().workflowName() + "/" + c.task().stepName());
            if (d.go()) {
                admitted.add(c);
                if (!uses.get(i).isEmpty()) grants.put(c.task().id(), grants(uses.get(i), buckets, now));
                hold.put(action, -1L);
                continue;
            }
            heldIds.add(c.task().id());
            heldAt.add(d.retryAtMs());
            heldBy.add(d.limit());
            earliest = Math.min(earliest, d.retryAtMs());
            if (d.why() == Why.MISSING_LIMIT || d.why() == Why.TOO_BIG) problems.put(d.limit(), d.why());
            Long prev = hold.get(action);
            if (prev == null || prev >= 0) hold.put(action, d.onlyGlobal() ? Math.min(prev == null ? Long.MAX_VALUE : prev,
                    d.retryAtMs()) : -1L);
        }
        if (!heldIds.isEmpty()) {
            queries.holdBack(tx, heldIds.toArray(Long[]::new), heldAt.toArray(Long[]::new), heldBy.toArray(String[]::new));
        }
        hold.values().removeIf(v -> v < 0);
        return new Admission(admitted, heldIds.size(), now, heldIds.isEmpty() ? 0 : earliest, hold, problems, grants);
    }

    /** What a task that went took: per bucket, its units in the window current at {@code nowMs} (the decision's). */
    private static List<Grant> grants(List<Use> uses, Map<BucketId, Bucket> buckets, long nowMs) {
        List<Grant> out = new ArrayList<>(uses.size());
        for (Use u : uses) {
            long windowMs = buckets.get(u.bucket()).limitWindowMs();
            out.add(new Grant(u.bucket().limit(), u.bucket().key(), u.units(), RateLimitPolicy.windowStart(nowMs, windowMs),
                    windowMs));
        }
        return out;
    }

    /** After the claim committed: schedules the wake-up for the held-back tasks, and warns about misconfigured steps. */
    void afterCommit(Admission a) {
        if (a == null || a.heldBack() == 0) return;
        long localNow = System.nanoTime();
        long dbNow = a.nowMs();
        for (var e : a.holdActionsUntilMs().entrySet()) {
            long ms = Math.min(e.getValue() - dbNow, MAX_HOLD_MS);
            if (ms > 0) heldActions.put(e.getKey(), new long[] {localNow + TimeUnit.MILLISECONDS.toNanos(ms), dbNow + ms});
        }
        scheduleWake(a.earliestRetryMs(), a.earliestRetryMs() - dbNow);
        for (var p : a.problems().entrySet()) {
            if (!warned.add(p.getKey())) continue;
            if (p.getValue() == Why.MISSING_LIMIT) {
                log.warn("Steps wait for rate limit '{}', which does not exist: create it (drover rate-limit put {} --capacity N"
                        + " --window second|minute|hour|day) or fix the step's @RateLimit name", p.getKey(), p.getKey());
            } else {
                log.warn("Steps wait for rate limit '{}': they need more units than its capacity per window; raise the"
                        + " capacity or lower the step's units", p.getKey());
            }
        }
    }

    /**
     * Wakes the dispatcher when the database clock reaches {@code dueMs}, {@code delayMs} from now (plus a
     * millisecond: never before). Every batch held back until the same window end shares one wake-up.
     */
    private void scheduleWake(long dueMs, long delayMs) {
        long due = dueMs;
        if (!wakes.add(due)) return;
        try {
            timer.schedule(() -> {
                wakes.remove(due);
                heldActions.values().removeIf(h -> h[1] <= due);
                wake.run();
            }, Math.max(0, delayMs) + 1, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            wakes.remove(due); // shutting down
        }
    }

    /** The buckets a step of a run with this input draws from, with the units (same bucket twice: added up). */
    static List<Use> uses(StepDefinition def, String inputJson) {
        Map<BucketId, Integer> units = new LinkedHashMap<>();
        for (RateLimitUse u : def.getRateLimitsList()) {
            String key = "";
            if (!u.getKeyExpression().isEmpty()) {
                key = Expressions.compileKey("rate_limits.key_expression", u.getKeyExpression(), KEY_VARIABLES)
                        .key(Map.of("input", inputJson == null ? "null" : inputJson));
                // An input without a usable key value shares the limit's global bucket: still limited.
                if (key == null) key = "";
                if (key.length() > MAX_KEY_LENGTH) key = key.substring(0, MAX_KEY_LENGTH);
            }
            units.merge(new BucketId(u.getLimitName(), key), Math.max(1, u.getUnits()), Integer::sum);
        }
        List<Use> out = new ArrayList<>(units.size());
        units.forEach((id, n) -> out.add(new Use(id, n)));
        return out;
    }
}
