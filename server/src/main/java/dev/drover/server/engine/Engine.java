package dev.drover.server.engine;

import dev.drover.server.store.Database;
import dev.drover.server.store.Rows.TaskRow;
import dev.drover.server.store.TaskQueries;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: everything between the transports and the store. Owns the dispatcher loop, the trigger
 * writer, the maintenance timers and the registry of connected workers.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private final Database db;
    private final EngineSettings settings;
    private final WorkflowCatalog catalog;
    private final WorkerRegistry registry;
    private final RunProgress progress;
    private final RunWatcher watcher;
    private final Runs runs;
    private final Replays replays;
    private final Events events;
    private final StepReports reports;
    private final Dispatcher dispatcher;
    private final Maintenance maintenance;
    private final Waits waits;
    private final Schedules schedules;
    private final RateLimits rateLimits;
    private final EngineStats stats = new EngineStats();
    private final Backlog backlog = new Backlog();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2,
            Thread.ofPlatform().name("drover-timer-", 0).daemon(true).factory());
    private final java.util.List<Thread> dispatchThreads = new java.util.ArrayList<>();
    /**
     * Group-commit writers: one primary writes whatever triggers have accumulated in one transaction;
     * the others stand by and write beside it only while it is stuck (see Runs#writerLoop).
     */
    private static final int TRIGGER_WRITERS = 8;
    private final java.util.List<Thread> writerThreads = new java.util.ArrayList<>();

    public Engine(Database db, EngineSettings settings) {
        this.db = db;
        this.settings = settings;
        this.catalog = new WorkflowCatalog(db);
        this.registry = new WorkerRegistry(db, catalog, settings, backlog);
        this.progress = new RunProgress(catalog, backlog, new Gate(catalog));
        this.watcher = new RunWatcher(db);
        this.runs = new Runs(db, catalog, progress, watcher, this, stats, registry, backlog, settings);
        this.events = new Events(db, runs, settings);
        this.reports = new StepReports(db, progress, registry, this, stats, catalog, backlog);
        this.rateLimits = new RateLimits(db, catalog);
        this.dispatcher = new Dispatcher(db, registry, catalog, settings, stats, backlog, rateLimits);
        rateLimits.onAvailable(dispatcher::wake);
        this.waits = new Waits(db, progress, this);
        this.replays = new Replays(db, catalog, progress, this);
        // A pushed event wakes the steps waiting for it, in the push's own transaction.
        events.addSink((tx, stored, fx) -> {
            for (Events.StoredEvent e : stored) waits.eventPushed(tx, e.tenantId(), e.id(), e.name(), e.payloadJson(), fx);
        });
        this.maintenance = new Maintenance(db, progress, this, settings, waits);
        this.schedules = new Schedules(db, catalog, runs, settings);
        registry.onCapacity(dispatcher::wake);
    }

    private dev.drover.server.store.Notifications notifications;
    private final java.util.concurrent.atomic.AtomicBoolean workToAnnounce = new java.util.concurrent.atomic.AtomicBoolean();
    static final String WORK_CHANNEL = "drover_work";
    static final String STOP_CHANNEL = "drover_stop";
    static final String RELEASE_CHANNEL = "drover_release";
    private final java.util.Set<java.util.UUID> releasesToAnnounce = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A worker connected elsewhere reported here; its replica will hear about it within a tick. */
    void announceRelease(java.util.UUID workerId) {
        releasesToAnnounce.add(workerId);
    }

    /** Another replica queued work, or asks the replica holding a worker's stream to stop an attempt. */
    private void onNotification(String channel, String payload) {
        if (WORK_CHANNEL.equals(channel)) {
            dispatcher.wake();
        } else if (RELEASE_CHANNEL.equals(channel)) {
            boolean freed = false;
            for (String id : payload.split(",")) {
                if (!id.isBlank()) freed |= registry.recount(java.util.UUID.fromString(id));
            }
            if (freed) dispatcher.wake();
        } else if (WorkerRegistry.STATE_CHANNEL.equals(channel)) {
            registry.stateChanged(payload);
        } else if (WorkerRegistry.LEAVING_CHANNEL.equals(channel)) {
            registry.leavingElsewhere(payload);
        } else if (STOP_CHANNEL.equals(channel)) {
            String[] p = payload.split(":", 4);
            if (p.length == 4) {
                registry.stop(java.util.UUID.fromString(p[0]), Long.parseLong(p[1]), Integer.parseInt(p[2]), p[3]);
            }
        }
    }

    /** At most one "new work" notification per tick, however many transactions queued work. */
    private void announceWork() {
        if (!releasesToAnnounce.isEmpty()) {
            StringBuilder ids = new StringBuilder();
            for (java.util.Iterator<java.util.UUID> it = releasesToAnnounce.iterator(); it.hasNext() && ids.length() < 7000; ) {
                if (ids.length() > 0) ids.append(',');
                ids.append(it.next());
                it.remove();
            }
            try {
                db.notify(RELEASE_CHANNEL, ids.toString());
            } catch (RuntimeException e) {
                log.debug("Could not announce released slots: {}", e.toString());
            }
        }
        if (workToAnnounce.getAndSet(false)) {
            try {
                db.notify(WORK_CHANNEL, "");
            } catch (RuntimeException e) {
                log.debug("Could not announce work: {}", e.toString());
            }
        }
    }

    public Engine start() {
        int graced = db.inTx(tx -> new TaskQueries().graceWorkersWithLeases(tx));
        if (graced > 0) log.info("Gave {} workers with running steps a fresh lease of {} to reconnect", graced, settings.leaseTimeout());
        for (int i = 0; i < Dispatcher.THREADS; i++) {
            dispatchThreads.add(Thread.ofPlatform().name("drover-dispatcher-" + i).daemon(true).start(dispatcher));
        }
        for (int i = 0; i < TRIGGER_WRITERS; i++) {
            boolean primary = i == 0;
            writerThreads.add(Thread.ofPlatform().name("drover-trigger-writer-" + i).daemon(true)
                    .start(() -> runs.writerLoop(primary)));
        }
        timers.scheduleWithFixedDelay(this::safeMaintenance, 200, 250, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::safeWatch, 250, 250, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::announceWork, 20, 20, TimeUnit.MILLISECONDS);
        notifications = db.listen(java.util.List.of(WORK_CHANNEL, STOP_CHANNEL, RELEASE_CHANNEL, WorkerRegistry.STATE_CHANNEL,
                        WorkerRegistry.LEAVING_CHANNEL),
                this::onNotification);
        timers.scheduleWithFixedDelay(this::safeRecount, 1, 1, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(this::safePruneRateBuckets, 60, 60, TimeUnit.SECONDS);
        schedules.start(); // its own thread: it sleeps until the next instant due, not a fixed delay
        return this;
    }

    private void safeMaintenance() {
        try {
            maintenance.tick();
        } catch (RuntimeException e) {
            log.warn("Maintenance error: {}", e.toString());
        }
    }

    private void safeRecount() {
        try {
            registry.recountAll();
        } catch (RuntimeException e) {
            log.debug("Slot recount skipped: {}", e.toString());
        }
    }

    private void safePruneRateBuckets() {
        try {
            rateLimits.prune();
        } catch (RuntimeException e) {
            log.debug("Rate bucket pruning skipped: {}", e.toString());
        }
    }

    private void safeWatch() {
        try {
            watcher.checkDatabase();
        } catch (RuntimeException e) {
            log.debug("Await check skipped: {}", e.toString());
        }
    }

    /** Carries out, after commit, what a transaction decided. */
    void apply(Effects fx) {
        if (!fx.finishedRuns.isEmpty()) watcher.finished(fx.finishedRuns);
        for (int i = 0; i < fx.stopOnWorkers.size(); i++) {
            TaskRow t = fx.stopOnWorkers.get(i);
            String reason = fx.stopReasons.get(i);
            if (!registry.stop(t.workerId(), t.id(), t.attempt(), reason)) {
                // The worker's stream is held by another replica: ask it to pass the cancel on.
                try {
                    db.notify(STOP_CHANNEL, t.workerId() + ":" + t.id() + ":" + t.attempt() + ":" + reason);
                } catch (RuntimeException e) {
                    log.debug("Could not forward a cancel: {}", e.toString());
                }
            }
        }
        if (fx.workQueued) {
            dispatcher.wake();
            workToAnnounce.set(true);
        }
    }

    public Runs runs() { return runs; }
    public Replays replays() { return replays; }
    public Events events() { return events; }
    public EngineStats stats() { return stats; }
    public WorkerRegistry workers() { return registry; }
    public StepReports reports() { return reports; }
    public WorkflowCatalog workflows() { return catalog; }
    public Schedules schedules() { return schedules; }
    public RateLimits rateLimits() { return rateLimits; }
    public EngineSettings settings() { return settings; }
    public boolean databaseReachable() { return db.ping(); }

    @Override
    public void close() {
        if (notifications != null) notifications.close();
        schedules.stop();
        runs.stop();
        dispatcher.stop();
        rateLimits.stop();
        timers.shutdownNow();
        registry.closeAll();
        try {
            for (Thread t : writerThreads) t.join(5_000);
            for (Thread t : dispatchThreads) t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
