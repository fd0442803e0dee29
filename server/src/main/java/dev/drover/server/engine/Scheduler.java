package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.server.engine.Views.TriggerCommand;
import dev.drover.server.engine.Views.TriggerResult;
import dev.drover.server.store.Database;
import dev.drover.server.store.ScheduleQueries;
import dev.drover.server.store.ScheduleQueries.CronRow;
import dev.drover.server.store.ScheduleQueries.Horizon;
import dev.drover.server.store.ScheduleQueries.ScheduleRow;
import dev.drover.server.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires due cron ticks and one-time schedules. Each replica runs one; they need no coordination beyond
 * the database:
 *
 * <ul>
 *   <li>"Due" means {@code <= now()} on the database clock, so a skewed process can never fire early.</li>
 *   <li>A tick is recorded (the cron moves to its next tick, the schedule becomes fired) in the same
 *       transaction as its run, by an update conditional on the row still being at that tick; the
 *       run's idempotency key ({@code cron:<id>:<tick ms>}, {@code schedule:<id>}) is a second guard.
 *       A replica that loses a race rolls its whole transaction back, so nothing fires twice, and a
 *       replica that dies mid-way leaves the tick due for the others.</li>
 *   <li>Rather than polling, it sleeps until the earliest pending instant (at most {@link #MAX_SLEEP_MS},
 *       which is also how soon it notices what another replica created), and is woken at once when this
 *       replica creates or changes a cron or schedule.</li>
 * </ul>
 *
 * <p>Missed ticks: a tick found more than {@link #MISSED_AFTER} late was missed (no server was running,
 * or none could reach the database). Its cron's policy then decides for all the ticks missed up to now:
 * {@code fire_once} starts one run, for the latest of them; {@code skip} starts none. Ticks less late
 * than that (a slow pass, a short restart) are all fired, in order.
 */
final class Scheduler implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration MISSED_AFTER = Duration.ofSeconds(5);
    static final long MAX_SLEEP_MS = 1000;
    /** After losing a race to another replica: let it finish before looking again. */
    private static final long RACE_BACKOFF_MS = 15;
    private static final int BATCH = 100;
    private static final String LOCK = "drover-schedules";

    private final Database db;
    private final Runs runs;
    private final WorkflowCatalog catalog;
    private final EngineSettings settings;
    private final ScheduleQueries queries = new ScheduleQueries();
    private final Semaphore wakeUp = new Semaphore(0);
    private final Map<String, CronSpec> specs = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private Thread thread;
    private long lastPrune = System.nanoTime() - TimeUnit.MINUTES.toNanos(2);

    Scheduler(Database db, Runs runs, WorkflowCatalog catalog, EngineSettings settings) {
        this.db = db;
        this.runs = runs;
        this.catalog = catalog;
        this.settings = settings;
    }

    void start() {
        thread = Thread.ofPlatform().name("drover-scheduler").daemon(true).start(this);
    }

    void stop() {
        running = false;
        wakeUp.release();
        if (thread != null) {
            try {
                thread.join(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Something pending changed on this replica: look again now. */
    void wake() {
        wakeUp.release();
    }

    @Override
    public void run() {
        while (running) {
            long sleepNanos;
            try {
                sleepNanos = round();
            } catch (StoreException e) {
                log.warn("Scheduler pass skipped: {}", e.getMessage());
                sleepNanos = TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS);
            } catch (EngineException e) {
                // The database or the trigger path is unavailable: what is due stays due; look again soon.
                log.warn("Scheduler pass skipped: {}", e.getMessage());
                sleepNanos = TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS);
            } catch (RuntimeException e) {
                log.error("Scheduler pass failed", e);
                sleepNanos = TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS);
            }
            try {
                if (sleepNanos > 0 && wakeUp.tryAcquire(sleepNanos, TimeUnit.NANOSECONDS)) wakeUp.drainPermits();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private record Due(List<CronRow> crons, List<ScheduleRow> schedules, Horizon horizon) {}

    /** One look at what is due and one transaction firing it; returns how long to sleep. */
    private long round() {
        Due due = db.inTx(tx -> new Due(queries.dueCrons(tx, BATCH), queries.dueSchedules(tx, BATCH), queries.horizon(tx)));
        if (System.nanoTime() - lastPrune > TimeUnit.MINUTES.toNanos(1)) {
            lastPrune = System.nanoTime();
            int pruned = db.inTx(tx -> queries.pruneSchedules(tx, settings.retention().toMillis(), 1000));
            if (pruned > 0) log.info("Pruned {} finished schedules older than {}", pruned, settings.retention());
        }
        if (due.crons().isEmpty() && due.schedules().isEmpty()) {
            Instant earliest = due.horizon().earliest();
            if (earliest == null) return TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS);
            long nanos = Duration.between(due.horizon().now(), earliest).toNanos();
            return Math.max(0, Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(MAX_SLEEP_MS)));
        }
        boolean fired = fire(due.crons(), due.schedules(), due.horizon().now());
        return fired ? 0 : TimeUnit.MILLISECONDS.toNanos(RACE_BACKOFF_MS);
    }

    /** What to do with one due row. {@code cmd} null: record {@code error} (or a skip) without a run. */
    private record Item(CronRow cron, ScheduleRow schedule, Instant tick, Instant next, UUID runId, TriggerCommand cmd,
                        String error) {}

    /** Another replica fired (or an API call changed) a row since it was read: retry from a fresh read. */
    private static final class Lost extends RuntimeException {
        Lost() {
            super(null, null, false, false);
        }
    }

    /** False when another replica got there first (nothing was done). */
    private boolean fire(List<CronRow> crons, List<ScheduleRow> schedules, Instant now) {
        List<Item> items = new ArrayList<>();
        for (CronRow c : crons) items.add(plan(c, now));
        for (ScheduleRow s : schedules) items.add(plan(s));
        try {
            return commit(items);
        } catch (EngineException e) {
            if (e.kind() == EngineException.Kind.UNAVAILABLE) throw e;
            // One bad item (say an input over a lowered payload limit) must not hold the others back.
            for (Item item : items) {
                try {
                    commit(List.of(item));
                } catch (EngineException single) {
                    if (single.kind() == EngineException.Kind.UNAVAILABLE) throw single;
                    log.warn("{} could not start a run: {}", item.cron() != null ? "Cron " + item.cron().id()
                            : "Schedule " + item.schedule().id(), single.getMessage());
                    commit(List.of(failed(item, single.getMessage())));
                }
            }
            return true;
        }
    }

    /** False when another replica (or an API call) changed a row first: nothing was done. */
    private boolean commit(List<Item> items) {
        List<TriggerCommand> cmds = new ArrayList<>();
        for (Item i : items) if (i.cmd() != null) cmds.add(i.cmd());
        List<TriggerResult> results;
        try {
            results = runs.triggerAll(cmds, (tx, fx) -> {
                // One replica at a time: a loser gives up at once instead of queueing behind the winner's rows.
                if (!tx.tryExclusive(LOCK)) throw new Lost();
                for (Item i : items) {
                    UUID run = i.cmd() == null ? null : i.runId();
                    int n = i.cron() != null
                            ? queries.advanceCron(tx, i.cron().id(), i.cron().nextFireAt(), i.tick(), i.next(), run, i.error())
                            : queries.markFired(tx, i.schedule().id(), i.schedule().fireAt(), run, i.error());
                    if (n != 1) throw new Lost();
                }
            });
        } catch (Lost e) {
            return false;
        }
        // A run that already existed under the idempotency key is the tick's run: point at it.
        int k = 0;
        for (Item i : items) {
            if (i.cmd() == null) continue;
            TriggerResult r = results.get(k++);
            if (!r.created() && !r.runId().equals(i.runId().toString())) {
                UUID existing = UUID.fromString(r.runId());
                db.inTx(tx -> {
                    if (i.cron() != null) queries.setCronRun(tx, i.cron().id(), existing);
                    else queries.setScheduleRun(tx, i.schedule().id(), existing);
                    return null;
                });
            }
        }
        return true;
    }

    private Item plan(CronRow c, Instant now) {
        CronSpec spec;
        try {
            if (specs.size() > 10_000) specs.clear();
            spec = specs.computeIfAbsent(c.expression() + "\u0000" + c.timeZone(), k -> CronSpec.parse("", c.expression(), c.timeZone()));
        } catch (EngineException e) {
            // Stored before a stricter parser: park it (visible in its last_error) rather than retry forever.
            return new Item(c, null, c.nextFireAt(), null, null, null, e.getMessage());
        }
        Instant tick = c.nextFireAt();
        if (Duration.between(tick, now).compareTo(MISSED_AFTER) > 0) {
            if ("skip".equals(c.missedTicks())) {
                Instant next = spec.next(now).orElse(null);
                log.info("Cron {} ({} of {}): ticks from {} were missed; skipping them (next {})", c.id(), c.name(),
                        c.workflowName(), tick, next);
                return new Item(c, null, tick, next, null, null, null);
            }
            Instant latest = spec.latest(now).filter(t -> t.isAfter(tick)).orElse(tick);
            log.info("Cron {} ({} of {}): ticks from {} were missed; firing once for {}", c.id(), c.name(), c.workflowName(),
                    tick, latest);
            return cronRun(c, latest, spec.next(latest).orElse(null));
        }
        return cronRun(c, tick, spec.next(tick).orElse(null));
    }

    private Item cronRun(CronRow c, Instant tick, Instant next) {
        Map<String, String> md = metadata(c.metadataJson());
        md.put("drover.cron", c.id().toString());
        md.put("drover.cron_name", c.name());
        md.put("drover.tick", tick.toString());
        UUID runId = Ids.newRunId();
        String problem = resolvable(c.tenantId(), c.workflowName());
        if (problem != null) return new Item(c, null, tick, next, null, null, problem);
        TriggerCommand cmd = new TriggerCommand(c.tenantId(), c.workflowName(), "", c.inputJson(), md,
                "cron:" + c.id() + ":" + tick.toEpochMilli(), 0, runId.toString());
        return new Item(c, null, tick, next, runId, cmd, null);
    }

    private Item plan(ScheduleRow s) {
        String problem = resolvable(s.tenantId(), s.workflowName());
        if (problem != null) return new Item(null, s, s.fireAt(), null, null, null, problem);
        Map<String, String> md = metadata(s.metadataJson());
        md.put("drover.schedule", s.id().toString());
        UUID runId = Ids.newRunId();
        TriggerCommand cmd = new TriggerCommand(s.tenantId(), s.workflowName(), "", s.inputJson(), md,
                "schedule:" + s.id(), 0, runId.toString());
        return new Item(null, s, s.fireAt(), null, runId, cmd, null);
    }

    /** The tick or schedule is consumed with an error instead of a run (a cron goes on to its next tick). */
    private static Item failed(Item i, String error) {
        return new Item(i.cron(), i.schedule(), i.tick(), i.next(), null, null, Text.clip(error, 2000));
    }

    private String resolvable(String tenant, String workflow) {
        try {
            catalog.resolve(tenant, workflow, "");
            return null;
        } catch (EngineException e) {
            return e.getMessage();
        }
    }

    private static Map<String, String> metadata(String json) {
        try {
            Map<String, String> m = json == null ? null : JSON.readValue(json, new TypeReference<LinkedHashMap<String, String>>() {});
            return m == null ? new LinkedHashMap<>() : m;
        } catch (JsonProcessingException e) {
            return new LinkedHashMap<>();
        }
    }
}
