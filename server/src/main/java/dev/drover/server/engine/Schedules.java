package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.proto.v1.CronSchedule;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.ScheduleQueries;
import dev.drover.server.store.ScheduleQueries.CronRow;
import dev.drover.server.store.ScheduleQueries.ScheduleRow;
import dev.drover.server.store.StoreTx;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Crons and one-time schedules as the transports see them: create, list, pause, resume, reschedule,
 * delete. Firing is the {@link Scheduler}'s job; every change here wakes it, so a new instant is
 * honoured to the millisecond rather than at the next poll.
 */
public final class Schedules {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ScheduleQueries QUERIES = new ScheduleQueries();
    private static final Set<String> MISSED = Set.of("fire_once", "skip");
    private static final Set<String> STATUSES = Set.of("scheduled", "fired", "cancelled", "failed");
    /** Beyond this, an instant is surely a unit mistake (seconds for milliseconds, or the reverse). */
    private static final long MAX_EPOCH_MS = Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();

    private final Database db;
    private final WorkflowCatalog catalog;
    private final EngineSettings settings;
    private final Scheduler scheduler;

    Schedules(Database db, WorkflowCatalog catalog, Runs runs, EngineSettings settings) {
        this.db = db;
        this.catalog = catalog;
        this.settings = settings;
        this.scheduler = new Scheduler(db, runs, catalog, settings);
    }

    void start() {
        scheduler.start();
    }

    void stop() {
        scheduler.stop();
    }

    /** A cron as shown to clients; instants are null when not set. */
    public record CronView(String id, String workflowName, String name, String expression, String timeZone, String inputJson,
                           Map<String, String> metadata, String missedTicks, boolean paused, String source,
                           Instant nextFireAt, Instant lastTickAt, String lastRunId, String lastError, Instant createdAt) {}

    /** A one-time schedule as shown to clients; status is scheduled, fired, cancelled or failed. */
    public record ScheduleView(String id, String workflowName, String inputJson, Map<String, String> metadata, Instant fireAt,
                               String status, String runId, Instant firedAt, String error, Instant createdAt) {}

    /** A cron to create; null or empty strings mean the defaults (name from the expression, UTC, {}, fire_once). */
    public record NewCron(String workflowName, String name, String expression, String timeZone, String inputJson,
                          Map<String, String> metadata, String missedTicks, boolean paused) {}

    // ---- crons ----

    public CronView createCron(String tenant, NewCron c) {
        String workflow = workflow(tenant, c.workflowName());
        CronSpec spec = CronSpec.parse("", c.expression(), c.timeZone());
        String name = cronName(spec, c.name(), "name");
        String input = input("input_json", c.inputJson(), settings.maxPayloadBytes());
        String metadata = metadata(c.metadata());
        String missed = missed("missed_ticks", c.missedTicks());
        CronView view = db.inTx(tx -> {
            Instant next = c.paused() ? null : spec.next(tx.now()).orElse(null);
            UUID id = UUID.randomUUID();
            CronRow row = new CronRow(id, tenant, workflow, name, spec.expression, spec.zone.getId(), input, metadata, missed,
                    "api", c.paused(), next, null, null, null, null);
            if (!QUERIES.insertCron(tx, row)) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "name: workflow '" + Text.clip(workflow, 100)
                        + "' already has a cron named '" + Text.clip(name, 100) + "'");
            }
            return view(QUERIES.getCron(tx, tenant, id).orElseThrow());
        });
        scheduler.wake();
        return view;
    }

    public List<CronView> listCrons(String tenant, String workflowName) {
        Text.check("workflow_name", workflowName);
        String wf = workflowName == null || workflowName.isEmpty() ? null : workflowName;
        return db.inTx(tx -> QUERIES.listCrons(tx, tenant, wf)).stream().map(Schedules::view).toList();
    }

    public CronView getCron(String tenant, String id) {
        UUID uuid = Ids.parse("cron_id", id);
        return db.inTx(tx -> view(cron(tx, tenant, uuid)));
    }

    /** Idempotent: pausing a paused cron changes nothing. */
    public CronView pauseCron(String tenant, String id) {
        UUID uuid = Ids.parse("cron_id", id);
        CronView v = db.inTx(tx -> {
            CronRow c = cron(tx, tenant, uuid);
            if (!c.paused()) QUERIES.setPaused(tx, uuid, true, null);
            return view(cron(tx, tenant, uuid));
        });
        scheduler.wake();
        return v;
    }

    /** Resumes from now on the database clock: ticks that fell in the paused period are not fired. */
    public CronView resumeCron(String tenant, String id) {
        UUID uuid = Ids.parse("cron_id", id);
        CronView v = db.inTx(tx -> {
            CronRow c = cron(tx, tenant, uuid);
            if (c.paused()) {
                CronSpec spec = CronSpec.parse("", c.expression(), c.timeZone());
                QUERIES.setPaused(tx, uuid, false, spec.next(tx.now()).orElse(null));
            }
            return view(cron(tx, tenant, uuid));
        });
        scheduler.wake();
        return v;
    }

    public void deleteCron(String tenant, String id) {
        UUID uuid = Ids.parse("cron_id", id);
        db.inTx(tx -> {
            CronRow c = cron(tx, tenant, uuid);
            if ("workflow".equals(c.source())) {
                // It would come back at the workflow's next registration: say where it lives instead.
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "cron_id: cron '" + Text.clip(c.name(), 100)
                        + "' is declared by workflow '" + Text.clip(c.workflowName(), 100)
                        + "'; remove it from the workflow's definition, or pause it");
            }
            return QUERIES.deleteCron(tx, uuid);
        });
        scheduler.wake();
    }

    /**
     * Brings the crons a workflow declares into the database, in the transaction registering the workflow:
     * new ones are added, changed ones updated, ones no longer declared removed. Crons created through the
     * API are never touched. INVALID_ARGUMENT names the cron ({@code crons[i].expression: ...}).
     */
    static void syncDeclared(StoreTx tx, String tenant, WorkflowDefinition def) {
        Set<String> names = new LinkedHashSet<>();
        Instant now = def.getCronsCount() == 0 ? null : tx.now();
        for (int i = 0; i < def.getCronsCount(); i++) {
            CronSchedule cs = def.getCrons(i);
            String field = "crons[" + i + "]";
            CronSpec spec = CronSpec.parse(field, cs.getExpression(), cs.getTimeZone());
            String name = cronName(spec, cs.getName(), field + ".name");
            if (!names.add(name)) {
                throw EngineException.invalid(field + ".name: workflow '" + Text.clip(def.getName(), 100)
                        + "' declares two crons named '" + Text.clip(name, 100) + "'");
            }
            String input = input(field + ".input_json", cs.getInputJson(), Integer.MAX_VALUE);
            String missed = missed(field + ".missed_ticks", cs.getMissedTicks());
            QUERIES.upsertDeclared(tx, new CronRow(UUID.randomUUID(), tenant, def.getName(), name, spec.expression,
                    spec.zone.getId(), input, "{}", missed, "workflow", false, spec.next(now).orElse(null), null, null, null, null));
        }
        QUERIES.deleteDeclaredExcept(tx, tenant, def.getName(), List.copyOf(names));
    }

    // ---- one-time schedules ----

    /** Exactly one of {@code fireAtMs} (epoch ms) and {@code delayMs} (from now on the database clock) is positive. */
    public ScheduleView createSchedule(String tenant, String workflowName, String inputJson, Map<String, String> metadata,
                                       long fireAtMs, long delayMs) {
        return createSchedule(tenant, workflowName, inputJson, metadata, fireAtMs, delayMs, null);
    }

    /**
     * As above, with an optional client-chosen id: a retried create (same id) returns the schedule the
     * first attempt stored instead of creating a second one (FAILED_PRECONDITION if that id is another
     * workflow's schedule). Two attempts racing: the insert skips a conflicting id, both read the one row.
     */
    public ScheduleView createSchedule(String tenant, String workflowName, String inputJson, Map<String, String> metadata,
                                       long fireAtMs, long delayMs, String scheduleId) {
        String workflow = workflow(tenant, workflowName);
        String input = input("input_json", inputJson, settings.maxPayloadBytes());
        String md = metadata(metadata);
        checkInstant(fireAtMs, delayMs);
        UUID chosen = scheduleId == null || scheduleId.isEmpty() ? null : Ids.parse("schedule_id", scheduleId);
        ScheduleView v = db.inTx(tx -> {
            UUID id = chosen != null ? chosen : UUID.randomUUID();
            if (chosen != null) {
                var existing = QUERIES.getSchedule(tx, tenant, id);
                if (existing.isPresent()) {
                    if (!existing.get().workflowName().equals(workflow)) {
                        throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                                "schedule_id: " + id + " is already a schedule of workflow '" + existing.get().workflowName() + "'");
                    }
                    return view(existing.get());
                }
            }
            Instant at = fireAtMs > 0 ? Instant.ofEpochMilli(fireAtMs) : tx.now().plusMillis(delayMs);
            QUERIES.insertSchedule(tx, new ScheduleRow(id, tenant, workflow, input, md, at, "scheduled", null, null, null, null));
            return view(QUERIES.getSchedule(tx, tenant, id)
                    .orElseThrow(() -> EngineException.invalid("schedule_id: " + id + " is already in use")));
        });
        scheduler.wake();
        return v;
    }

    /** Soonest first; status null or empty for all. */
    public List<ScheduleView> listSchedules(String tenant, String workflowName, String status, int limit) {
        Text.check("workflow_name", workflowName);
        if (status != null && !status.isEmpty() && !STATUSES.contains(status)) {
            throw EngineException.invalid("status: unknown status '" + Text.clip(status, 40) + "' (scheduled, fired, cancelled, failed)");
        }
        if (limit < 0 || limit > 1000) throw EngineException.invalid("limit: must be between 1 and 1000");
        String wf = workflowName == null || workflowName.isEmpty() ? null : workflowName;
        String st = status == null || status.isEmpty() ? null : status;
        int lim = limit == 0 ? 100 : limit;
        return db.inTx(tx -> QUERIES.listSchedules(tx, tenant, wf, st, lim)).stream().map(Schedules::view).toList();
    }

    public ScheduleView getSchedule(String tenant, String id) {
        UUID uuid = Ids.parse("schedule_id", id);
        return db.inTx(tx -> view(schedule(tx, tenant, uuid)));
    }

    /** Moves a schedule that has not fired; FAILED_PRECONDITION once it fired or was deleted. */
    public ScheduleView reschedule(String tenant, String id, long fireAtMs, long delayMs) {
        UUID uuid = Ids.parse("schedule_id", id);
        checkInstant(fireAtMs, delayMs);
        ScheduleView v = db.inTx(tx -> {
            ScheduleRow s = schedule(tx, tenant, uuid);
            Instant at = fireAtMs > 0 ? Instant.ofEpochMilli(fireAtMs) : tx.now().plusMillis(delayMs);
            if (QUERIES.updateScheduled(tx, uuid, at, "scheduled") != 1) throw notScheduled(s);
            return view(schedule(tx, tenant, uuid));
        });
        scheduler.wake();
        return v;
    }

    /** Cancels a schedule that has not fired (it stays listed as cancelled); FAILED_PRECONDITION once fired. */
    public ScheduleView deleteSchedule(String tenant, String id) {
        UUID uuid = Ids.parse("schedule_id", id);
        ScheduleView v = db.inTx(tx -> {
            ScheduleRow s = schedule(tx, tenant, uuid);
            if ("cancelled".equals(s.status())) return view(s);
            if (QUERIES.updateScheduled(tx, uuid, null, "cancelled") != 1) throw notScheduled(s);
            return view(schedule(tx, tenant, uuid));
        });
        scheduler.wake();
        return v;
    }

    // ---- validation and views ----

    private String workflow(String tenant, String name) {
        if (name == null || name.isBlank()) throw EngineException.invalid("workflow_name: must not be empty");
        Text.check("workflow_name", name);
        return catalog.resolve(tenant, name, "").name();
    }

    private static String cronName(CronSpec spec, String given, String field) {
        if (given == null || given.isBlank()) {
            return "UTC".equals(spec.zone.getId()) ? spec.expression : spec.expression + " " + spec.zone.getId();
        }
        Text.check(field, given);
        if (given.length() > 200) throw EngineException.invalid(field + ": longer than 200 characters");
        return given.trim();
    }

    private static String input(String field, String json, int maxBytes) {
        String input = json == null || json.isBlank() ? "{}" : json;
        Runs.checkSize(field, input, maxBytes);
        String problem = JsonText.problem(input);
        if (problem != null) throw EngineException.invalid(field + ": not valid JSON: " + problem);
        return input;
    }

    private static String missed(String field, String value) {
        if (value == null || value.isBlank()) return "fire_once";
        if (!MISSED.contains(value)) {
            throw EngineException.invalid(field + ": unknown policy '" + Text.clip(value, 40) + "' (fire_once or skip)");
        }
        return value;
    }

    private static String metadata(Map<String, String> metadata) {
        if (metadata == null || metadata.isEmpty()) return "{}";
        for (var e : metadata.entrySet()) {
            Text.check("metadata key", e.getKey());
            Text.check("metadata." + Text.clip(e.getKey(), 40), e.getValue());
            if (e.getKey().startsWith("drover.")) {
                throw EngineException.invalid("metadata." + Text.clip(e.getKey(), 40) + ": keys starting with 'drover.' are reserved");
            }
        }
        try {
            String json = JSON.writeValueAsString(metadata);
            if (json.length() > 64 * 1024) throw EngineException.invalid("metadata: more than 64 KiB");
            return json;
        } catch (JsonProcessingException e) {
            throw EngineException.invalid("metadata: " + e.getOriginalMessage());
        }
    }

    private static void checkInstant(long fireAtMs, long delayMs) {
        if (fireAtMs < 0) throw EngineException.invalid("fire_at_ms: must not be negative");
        if (delayMs < 0) throw EngineException.invalid("delay_ms: must not be negative");
        if (fireAtMs > 0 && delayMs > 0) throw EngineException.invalid("fire_at_ms: give fire_at_ms or delay_ms, not both");
        if (fireAtMs == 0 && delayMs == 0) throw EngineException.invalid("fire_at_ms: required (or delay_ms)");
        if (fireAtMs > MAX_EPOCH_MS) throw EngineException.invalid("fire_at_ms: " + fireAtMs + " is after the year 9999 (milliseconds expected)");
        if (delayMs > MAX_EPOCH_MS / 2) throw EngineException.invalid("delay_ms: " + delayMs + " is too large");
    }

    private static CronRow cron(StoreTx tx, String tenant, UUID id) {
        return QUERIES.getCron(tx, tenant, id).orElseThrow(() -> EngineException.notFound("cron_id: no cron " + id));
    }

    private static ScheduleRow schedule(StoreTx tx, String tenant, UUID id) {
        return QUERIES.getSchedule(tx, tenant, id).orElseThrow(() -> EngineException.notFound("schedule_id: no schedule " + id));
    }

    private static EngineException notScheduled(ScheduleRow s) {
        String why = s.runId() != null ? "it already fired (run " + s.runId() + ")" : "it is " + s.status();
        return new EngineException(EngineException.Kind.FAILED_PRECONDITION, "schedule_id: schedule " + s.id() + " can no longer change: " + why);
    }

    private static CronView view(CronRow c) {
        return new CronView(c.id().toString(), c.workflowName(), c.name(), c.expression(), c.timeZone(), c.inputJson(),
                metadataMap(c.metadataJson()), c.missedTicks(), c.paused(), c.source(), c.nextFireAt(), c.lastTickAt(),
                c.lastRunId() == null ? null : c.lastRunId().toString(), c.lastError(), c.createdAt());
    }

    private static ScheduleView view(ScheduleRow s) {
        return new ScheduleView(s.id().toString(), s.workflowName(), s.inputJson(), metadataMap(s.metadataJson()), s.fireAt(),
                s.status(), s.runId() == null ? null : s.runId().toString(), s.firedAt(), s.error(), s.createdAt());
    }

    private static Map<String, String> metadataMap(String json) {
        try {
            return json == null ? Map.of() : JSON.readValue(json, new TypeReference<HashMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }
}
