package dev.drover.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of drover_cron and drover_schedule. Every "is it due" test is written
 * against now() (the database clock); the firing updates are conditional on the row still being the
 * tick or instant the scheduler read, so a racing replica or a concurrent API change makes them a no-op.
 */
public final class ScheduleQueries {

    public record CronRow(UUID id, String tenantId, String workflowName, String name, String expression, String timeZone,
                          String inputJson, String metadataJson, String missedTicks, String source, boolean paused,
                          Instant nextFireAt, Instant lastTickAt, UUID lastRunId, String lastError, Instant createdAt) {}

    public record ScheduleRow(UUID id, String tenantId, String workflowName, String inputJson, String metadataJson,
                              Instant fireAt, String status, UUID runId, Instant firedAt, String error, Instant createdAt) {}

    /** The database clock and the earliest instant anything is due (null when nothing is pending). */
    public record Horizon(Instant now, Instant earliest) {}

    private static final String CRON_COLUMNS = """
            id, tenant_id, workflow_name, name, expression, time_zone, input::text AS input, metadata::text AS metadata,
            missed_ticks, source, paused, next_fire_at, last_tick_at, last_run_id, last_error, created_at""";

    private static final String SCHEDULE_COLUMNS = """
            id, tenant_id, workflow_name, input::text AS input, metadata::text AS metadata, fire_at, status, run_id,
            fired_at, error, created_at""";

    // ---- crons: API ----

    /** False when the workflow already has a cron of that name. */
    public boolean insertCron(StoreTx tx, CronRow c) {
        return !tx.query("INSERT INTO drover_cron (id, tenant_id, workflow_name, name, expression, time_zone, input, metadata, "
                        + "missed_ticks, source, paused, next_fire_at) VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?) "
                        + "ON CONFLICT (tenant_id, workflow_name, name) DO NOTHING RETURNING id",
                ps -> {
                    ps.setObject(1, c.id());
                    ps.setString(2, c.tenantId());
                    ps.setString(3, c.workflowName());
                    ps.setString(4, c.name());
                    ps.setString(5, c.expression());
                    ps.setString(6, c.timeZone());
                    ps.setString(7, c.inputJson());
                    ps.setString(8, c.metadataJson());
                    ps.setString(9, c.missedTicks());
                    ps.setString(10, c.source());
                    ps.setBoolean(11, c.paused());
                    ts(ps, 12, c.nextFireAt());
                }, rs -> rs.getObject(1)).isEmpty();
    }

    /**
     * Inserts or updates a cron declared by a workflow. A cron created through the API under the same name
     * is left alone; an unchanged one is not written; the next tick is recomputed only when the expression
     * or the zone changed (so re-registering a workflow neither skips nor repeats a tick).
     */
    public void upsertDeclared(StoreTx tx, CronRow c) {
        tx.update("""
                INSERT INTO drover_cron (id, tenant_id, workflow_name, name, expression, time_zone, input, metadata,
                                         missed_ticks, source, paused, next_fire_at)
                VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, '{}', ?, 'workflow', false, ?)
                ON CONFLICT (tenant_id, workflow_name, name) DO UPDATE SET
                    expression = excluded.expression, time_zone = excluded.time_zone, input = excluded.input,
                    missed_ticks = excluded.missed_ticks, updated_at = now(),
                    next_fire_at = CASE
                        WHEN drover_cron.paused THEN NULL
                        WHEN drover_cron.expression = excluded.expression AND drover_cron.time_zone = excluded.time_zone
                            AND drover_cron.next_fire_at IS NOT NULL THEN drover_cron.next_fire_at
                        ELSE excluded.next_fire_at END
                WHERE drover_cron.source = 'workflow'
                  AND (drover_cron.expression, drover_cron.time_zone, drover_cron.input, drover_cron.missed_ticks)
                      IS DISTINCT FROM (excluded.expression, excluded.time_zone, excluded.input, excluded.missed_ticks)""",
                ps -> {
                    ps.setObject(1, c.id());
                    ps.setString(2, c.tenantId());
                    ps.setString(3, c.workflowName());
                    ps.setString(4, c.name());
                    ps.setString(5, c.expression());
                    ps.setString(6, c.timeZone());
                    ps.setString(7, c.inputJson());
                    ps.setString(8, c.missedTicks());
                    ts(ps, 9, c.nextFireAt());
                });
    }

    /** Removes the crons a workflow declared before and declares no more. */
    public int deleteDeclaredExcept(StoreTx tx, String tenantId, String workflowName, List<String> keep) {
        return tx.update("DELETE FROM drover_cron WHERE tenant_id = ? AND workflow_name = ? AND source = 'workflow' "
                        + "AND NOT (name = ANY (?::text[]))",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setArray(3, tx.array("text", keep.toArray()));
                });
    }

    public List<CronRow> listCrons(StoreTx tx, String tenantId, String workflowName) {
        return tx.query("SELECT " + CRON_COLUMNS + " FROM drover_cron WHERE tenant_id = ? AND (?::text IS NULL OR workflow_name = ?) "
                        + "ORDER BY workflow_name, name LIMIT 10000",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setString(3, workflowName);
                }, ScheduleQueries::cron);
    }

    public Optional<CronRow> getCron(StoreTx tx, String tenantId, UUID id) {
        return tx.query("SELECT " + CRON_COLUMNS + " FROM drover_cron WHERE tenant_id = ? AND id = ? FOR UPDATE",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setObject(2, id);
                }, ScheduleQueries::cron).stream().findFirst();
    }

    /** Pauses (next = null) or resumes (next = the first tick after now). */
    public void setPaused(StoreTx tx, UUID id, boolean paused, Instant next) {
        tx.update("UPDATE drover_cron SET paused = ?, next_fire_at = ?, updated_at = now() WHERE id = ?",
                ps -> {
                    ps.setBoolean(1, paused);
                    ts(ps, 2, next);
                    ps.setObject(3, id);
                });
    }

    public int deleteCron(StoreTx tx, UUID id) {
        return tx.update("DELETE FROM drover_cron WHERE id = ?", ps -> ps.setObject(1, id));
    }

    // ---- crons: the scheduler ----

    /** Crons whose next tick has come (on the database clock), oldest tick first. */
    public List<CronRow> dueCrons(StoreTx tx, int limit) {
        return tx.query("SELECT " + CRON_COLUMNS + " FROM drover_cron WHERE next_fire_at <= now() ORDER BY next_fire_at LIMIT ?",
                ps -> ps.setInt(1, limit), ScheduleQueries::cron);
    }

    /**
     * Records that tick {@code tick} fired with run {@code runId} (or, with a null run, was skipped or could
     * not fire: {@code error}) and moves the cron on to {@code next}. Conditional on the cron still being at
     * tick {@code expected} and that tick being due on the database clock: 0 otherwise.
     */
    public int advanceCron(StoreTx tx, UUID id, Instant expected, Instant tick, Instant next, UUID runId, String error) {
        return tx.update("""
                UPDATE drover_cron SET next_fire_at = ?, last_tick_at = CASE WHEN ?::uuid IS NULL THEN last_tick_at ELSE ? END,
                       last_run_id = coalesce(?::uuid, last_run_id), last_error = ?, updated_at = now()
                WHERE id = ? AND next_fire_at = ? AND next_fire_at <= now()""",
                ps -> {
                    ts(ps, 1, next);
                    ps.setObject(2, runId);
                    ts(ps, 3, tick);
                    ps.setObject(4, runId);
                    ps.setString(5, error);
                    ps.setObject(6, id);
                    ts(ps, 7, expected);
                });
    }

    public void setCronRun(StoreTx tx, UUID id, UUID runId) {
        tx.update("UPDATE drover_cron SET last_run_id = ? WHERE id = ?", ps -> {
            ps.setObject(1, runId);
            ps.setObject(2, id);
        });
    }

    /** The database clock and the soonest pending tick or schedule. */
    public Horizon horizon(StoreTx tx) {
        return tx.query("""
                SELECT now() AS now, least((SELECT min(next_fire_at) FROM drover_cron WHERE next_fire_at IS NOT NULL),
                                           (SELECT min(fire_at) FROM drover_schedule WHERE status = 'scheduled')) AS earliest""",
                ps -> { }, rs -> new Horizon(Sql.instant(rs, "now"), Sql.instant(rs, "earliest"))).get(0);
    }

    // ---- one-time schedules ----

    public void insertSchedule(StoreTx tx, ScheduleRow s) {
        tx.update("INSERT INTO drover_schedule (id, tenant_id, workflow_name, input, metadata, fire_at, status) "
                        + "VALUES (?, ?, ?, ?::jsonb, ?::jsonb, ?, 'scheduled') ON CONFLICT (id) DO NOTHING",
                ps -> {
                    ps.setObject(1, s.id());
                    ps.setString(2, s.tenantId());
                    ps.setString(3, s.workflowName());
                    ps.setString(4, s.inputJson());
                    ps.setString(5, s.metadataJson());
                    ts(ps, 6, s.fireAt());
                });
    }

    public Optional<ScheduleRow> getSchedule(StoreTx tx, String tenantId, UUID id) {
        return tx.query("SELECT " + SCHEDULE_COLUMNS + " FROM drover_schedule WHERE tenant_id = ? AND id = ? FOR UPDATE",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setObject(2, id);
                }, ScheduleQueries::schedule).stream().findFirst();
    }

    public List<ScheduleRow> listSchedules(StoreTx tx, String tenantId, String workflowName, String status, int limit) {
        return tx.query("SELECT " + SCHEDULE_COLUMNS + " FROM drover_schedule WHERE tenant_id = ? "
                        + "AND (?::text IS NULL OR workflow_name = ?) AND (?::text IS NULL OR status = ?) ORDER BY fire_at, id LIMIT ?",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setString(3, workflowName);
                    ps.setString(4, status);
                    ps.setString(5, status);
                    ps.setInt(6, limit);
                }, ScheduleQueries::schedule);
    }

    /** Changes the instant or cancels; only while still scheduled (0 otherwise). */
    public int updateScheduled(StoreTx tx, UUID id, Instant fireAt, String status) {
        return tx.update("UPDATE drover_schedule SET fire_at = coalesce(?, fire_at), status = ?, updated_at = now() "
                        + "WHERE id = ? AND status = 'scheduled'",
                ps -> {
                    ts(ps, 1, fireAt);
                    ps.setString(2, status);
                    ps.setObject(3, id);
                });
    }

    public List<ScheduleRow> dueSchedules(StoreTx tx, int limit) {
        return tx.query("SELECT " + SCHEDULE_COLUMNS + " FROM drover_schedule WHERE status = 'scheduled' AND fire_at <= now() "
                        + "ORDER BY fire_at LIMIT ?",
                ps -> ps.setInt(1, limit), ScheduleQueries::schedule);
    }

    /**
     * Marks a due schedule fired with its run (or failed with an error); 0 when it was rescheduled,
     * cancelled or fired meanwhile, or is not due on the database clock.
     */
    public int markFired(StoreTx tx, UUID id, Instant expectedFireAt, UUID runId, String error) {
        return tx.update("""
                UPDATE drover_schedule SET status = CASE WHEN ?::uuid IS NULL THEN 'failed' ELSE 'fired' END, run_id = ?,
                       error = ?, fired_at = now(), updated_at = now()
                WHERE id = ? AND status = 'scheduled' AND fire_at = ? AND fire_at <= now()""",
                ps -> {
                    ps.setObject(1, runId);
                    ps.setObject(2, runId);
                    ps.setString(3, error);
                    ps.setObject(4, id);
                    ts(ps, 5, expectedFireAt);
                });
    }

    public void setScheduleRun(StoreTx tx, UUID id, UUID runId) {
        tx.update("UPDATE drover_schedule SET run_id = ? WHERE id = ?", ps -> {
            ps.setObject(1, runId);
            ps.setObject(2, id);
        });
    }

    /** Deletes fired, failed and cancelled schedules older than the retention. */
    public int pruneSchedules(StoreTx tx, long retentionMs, int limit) {
        return tx.update("""
                DELETE FROM drover_schedule WHERE id IN (
                    SELECT id FROM drover_schedule WHERE status <> 'scheduled'
                      AND updated_at < now() - make_interval(secs => ? / 1000.0) LIMIT ?)""",
                ps -> {
                    ps.setLong(1, retentionMs);
                    ps.setInt(2, limit);
                });
    }

    // ---- mapping ----

    /** As timestamptz, whatever the JVM's zone. */
    private static void ts(java.sql.PreparedStatement ps, int index, Instant t) throws SQLException {
        ps.setObject(index, t == null ? null : t.atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
    }

    private static CronRow cron(ResultSet rs) throws SQLException {
        return new CronRow(Sql.uuid(rs, "id"), rs.getString("tenant_id"), rs.getString("workflow_name"), rs.getString("name"),
                rs.getString("expression"), rs.getString("time_zone"), rs.getString("input"), rs.getString("metadata"),
                rs.getString("missed_ticks"), rs.getString("source"), rs.getBoolean("paused"), Sql.instant(rs, "next_fire_at"),
                Sql.instant(rs, "last_tick_at"), Sql.uuid(rs, "last_run_id"), rs.getString("last_error"),
                Sql.instant(rs, "created_at"));
    }

    private static ScheduleRow schedule(ResultSet rs) throws SQLException {
        return new ScheduleRow(Sql.uuid(rs, "id"), rs.getString("tenant_id"), rs.getString("workflow_name"), rs.getString("input"),
                rs.getString("metadata"), Sql.instant(rs, "fire_at"), rs.getString("status"), Sql.uuid(rs, "run_id"),
                Sql.instant(rs, "fired_at"), rs.getString("error"), Sql.instant(rs, "created_at"));
    }
}
