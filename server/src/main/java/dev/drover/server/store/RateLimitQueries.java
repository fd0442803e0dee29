package dev.drover.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * SQL of rate limits: drover_rate_limit (name, capacity, window) and drover_rate_bucket (units used per
 * key in its current window, and pauses). Times are milliseconds since the epoch on the database clock.
 */
public final class RateLimitQueries {
    /** A limit as stored. */
    public record LimitRow(String name, int capacity, long windowMs, Instant createdAt, Instant updatedAt) {}

    /** A bucket as stored; {@code pausedUntilMs} 0 = never paused or lifted (a past instant: the pause ended). */
    public record BucketRow(String limitName, String key, long windowStart, long windowMs, int used, long pausedUntilMs,
                            String pauseReason) {}

    /**
     * A bucket locked for an acquisition, with its limit ({@code capacity} 0 when the limit does not
     * exist) and the database time read after the lock was granted.
     */
    public record Locked(String limitName, String key, long windowStart, long windowMs, int used, long pausedUntilMs,
                         int capacity, long limitWindowMs, long nowMs) {}

    private static final String NOW_MS = "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    public LimitRow upsert(StoreTx tx, String tenantId, String name, int capacity, long windowMs) {
        return tx.query("""
                INSERT INTO drover_rate_limit (tenant_id, name, capacity, window_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, name) DO UPDATE
                   SET capacity = excluded.capacity, window_ms = excluded.window_ms, updated_at = now()
                RETURNING name, capacity, window_ms, created_at, updated_at""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setInt(3, capacity);
                    ps.setLong(4, windowMs);
                }, RateLimitQueries::limit).get(0);
    }

    public Optional<LimitRow> get(StoreTx tx, String tenantId, String name) {
        return tx.query("SELECT name, capacity, window_ms, created_at, updated_at FROM drover_rate_limit WHERE tenant_id = ? AND name = ?",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                }, RateLimitQueries::limit).stream().findFirst();
    }

    public List<LimitRow> list(StoreTx tx, String tenantId) {
        return tx.query("SELECT name, capacity, window_ms, created_at, updated_at FROM drover_rate_limit WHERE tenant_id = ? ORDER BY name",
                ps -> ps.setString(1, tenantId), RateLimitQueries::limit);
    }

    /** Deletes the limit and its buckets; false when there was no such limit. */
    public boolean delete(StoreTx tx, String tenantId, String name) {
        tx.update("DELETE FROM drover_rate_bucket WHERE tenant_id = ? AND limit_name = ?", ps -> {
            ps.setString(1, tenantId);
            ps.setString(2, name);
        });
        return tx.update("DELETE FROM drover_rate_limit WHERE tenant_id = ? AND name = ?", ps -> {
            ps.setString(1, tenantId);
            ps.setString(2, name);
        }) > 0;
    }

    public long nowMs(StoreTx tx) {
        return tx.query("SELECT " + NOW_MS, ps -> { }, rs -> rs.getLong(1)).get(0);
    }

    /**
     * The limit's buckets that matter to a person: those with units used in the window starting at
     * {@code windowStart} (busiest first, at most {@code top}), the global bucket, and the paused ones
     * (at most 1000). Usage of a bucket last written in another window reads as 0.
     */
    public List<BucketRow> interesting(StoreTx tx, String tenantId, String name, long windowStart, long windowMs, int top) {
        return tx.query("""
                (SELECT limit_name, bkey, window_start, window_ms, used, paused_until, pause_reason FROM drover_rate_bucket
                  WHERE tenant_id = ? AND limit_name = ? AND window_start < ? + ? AND window_start + window_ms > ? AND used > 0
                  ORDER BY used DESC, bkey LIMIT ?)
                UNION
                (SELECT limit_name, bkey, window_start, window_ms, used, paused_until, pause_reason FROM drover_rate_bucket
                  WHERE tenant_id = ? AND limit_name = ? AND (bkey = '' OR paused_until > clock_timestamp())
                  ORDER BY bkey LIMIT 1001)""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setLong(3, windowStart);
                    ps.setLong(4, windowMs);
                    ps.setLong(5, windowStart);
                    ps.setInt(6, top);
                    ps.setString(7, tenantId);
                    ps.setString(8, name);
                }, RateLimitQueries::bucket);
    }

    /** {active keys, paused keys} of a limit in the window starting at {@code windowStart}. */
    public int[] counts(StoreTx tx, String tenantId, String name, long windowStart, long windowMs) {
        return tx.query("""
                SELECT count(*) FILTER (WHERE window_start < ? + ? AND window_start + window_ms > ? AND used > 0),
                       count(*) FILTER (WHERE paused_until > clock_timestamp())
                  FROM drover_rate_bucket WHERE tenant_id = ? AND limit_name = ?""",
                ps -> {
                    ps.setLong(1, windowStart);
                    ps.setLong(2, windowMs);
                    ps.setLong(3, windowStart);
                    ps.setString(4, tenantId);
                    ps.setString(5, name);
                }, rs -> new int[] {rs.getInt(1), rs.getInt(2)}).get(0);
    }

    /**
     * Pauses a key until {@code durationMs} from now, or later if it is already paused longer;
     * {@code durationMs} 0 lifts the pause. Returns the bucket.
     */
    public BucketRow pause(StoreTx tx, String tenantId, String name, String key, long durationMs, String reason) {
        return tx.query("""
                INSERT INTO drover_rate_bucket AS b (tenant_id, limit_name, bkey, paused_until, pause_reason)
                VALUES (?, ?, ?, CASE WHEN ? > 0 THEN clock_timestamp() + ? * interval '1 millisecond' END, ?)
                ON CONFLICT (tenant_id, limit_name, bkey) DO UPDATE
                   SET paused_until = CASE WHEN ? = 0 THEN NULL
                                           ELSE greatest(b.paused_until, excluded.paused_until) END,
                       pause_reason = CASE WHEN ? = 0 THEN NULL
                                           WHEN b.paused_until > excluded.paused_until THEN b.pause_reason
                                           ELSE excluded.pause_reason END
                RETURNING limit_name, bkey, window_start, window_ms, used, paused_until, pause_reason""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setString(3, key);
                    ps.setLong(4, durationMs);
                    ps.setLong(5, durationMs);
                    ps.setString(6, durationMs == 0 ? null : reason);
                    ps.setLong(7, durationMs);
                    ps.setLong(8, durationMs);
                }, RateLimitQueries::bucket).get(0);
    }

    /**
     * Creates the missing buckets of existing limits and locks them all, in (limit, key) order (one
     * order everywhere: no deadlock between replicas); returns them with their limits and the database
     * time after the last lock was granted. Buckets of limits that do not exist are not returned.
     * {@code limitNames}/{@code keys} must be distinct pairs.
     */
    public List<Locked> lockBuckets(StoreTx tx, String tenantId, String[] limitNames, String[] keys) {
        return tx.query("""
                WITH locked AS (
                    INSERT INTO drover_rate_bucket AS b (tenant_id, limit_name, bkey)
                    SELECT ?, u.limit_name, u.bkey FROM unnest(?::text[], ?::text[]) AS u(limit_name, bkey)
                     WHERE EXISTS (SELECT 1 FROM drover_rate_limit l WHERE l.tenant_id = ? AND l.name = u.limit_name)
                     ORDER BY u.limit_name, u.bkey
                    ON CONFLICT (tenant_id, limit_name, bkey) DO UPDATE SET used = b.used
                    RETURNING b.limit_name, b.bkey, b.window_start, b.window_ms, b.used, b.paused_until, NOW_MS AS now_ms)
                SELECT k.limit_name, k.bkey, k.window_start, k.window_ms, k.used,
                       coalesce(floor(extract(epoch FROM k.paused_until) * 1000)::bigint, 0) AS paused_until_ms,
                       l.capacity, l.window_ms AS limit_window_ms, k.now_ms
                  FROM locked k JOIN drover_rate_limit l ON l.tenant_id = ? AND l.name = k.limit_name""".replace("NOW_MS", NOW_MS),
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("text", limitNames));
                    ps.setArray(3, tx.array("text", keys));
                    ps.setString(4, tenantId);
                    ps.setString(5, tenantId);
                }, rs -> new Locked(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getInt(5),
                        rs.getLong(6), rs.getInt(7), rs.getLong(8), rs.getLong(9)));
    }

    /** Writes the buckets' new window and usage (rows locked by {@link #lockBuckets}). */
    public void writeBuckets(StoreTx tx, String tenantId, String[] limitNames, String[] keys, Long[] windowStarts,
                             Long[] windowMs, Integer[] used) {
        tx.update("""
                UPDATE drover_rate_bucket b SET window_start = u.ws, window_ms = u.wms, used = u.used
                  FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::int[]) AS u(limit_name, bkey, ws, wms, used)
                 WHERE b.tenant_id = ? AND b.limit_name = u.limit_name AND b.bkey = u.bkey""",
                ps -> {
                    ps.setArray(1, tx.array("text", limitNames));
                    ps.setArray(2, tx.array("text", keys));
                    ps.setArray(3, tx.array("bigint", windowStarts));
                    ps.setArray(4, tx.array("bigint", windowMs));
                    ps.setArray(5, tx.array("int", used));
                    ps.setString(6, tenantId);
                });
    }

    /**
     * Puts tasks just claimed in this transaction back in the queue, as if they had not been claimed:
     * available again at the given instants (ms). The claim wrote only the task row, so nothing else
     * needs undoing. {@code limitNames}: the limit that holds each task back.
     */
    public void holdBack(StoreTx tx, Long[] taskIds, Long[] availableAtMs, String[] limitNames) {
        tx.update("""
                UPDATE drover_task t
                   SET state = 'queued', attempt = t.attempt - 1, worker_id = NULL, lease_expires_at = NULL,
                       execution_deadline = NULL, available_at = to_timestamp(u.at / 1000.0), rate_limited_by = u.limit_name
                  FROM unnest(?::bigint[], ?::bigint[], ?::text[]) AS u(id, at, limit_name)
                 WHERE t.id = u.id AND t.state = 'leased'""",
                ps -> {
                    ps.setArray(1, tx.array("bigint", taskIds));
                    ps.setArray(2, tx.array("bigint", availableAtMs));
                    ps.setArray(3, tx.array("text", limitNames));
                });
    }

    /** Makes the tasks held back by the limit available now (the limit was raised, changed or unpaused). */
    public int release(StoreTx tx, String tenantId, String limitName) {
        return tx.update("""
                UPDATE drover_task SET available_at = now()
                 WHERE tenant_id = ? AND state = 'queued' AND rate_limited_by = ? AND available_at > now()""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, limitName);
                });
    }

    /** Deletes buckets whose window ended over a minute ago and that are not paused; returns how many. */
    public int prune(StoreTx tx, int limit) {
        return tx.update("""
                DELETE FROM drover_rate_bucket WHERE ctid IN (
                    SELECT ctid FROM drover_rate_bucket
                     WHERE window_start + window_ms < NOW_MS - 60000
                       AND (paused_until IS NULL OR paused_until < clock_timestamp())
                     LIMIT ? FOR UPDATE SKIP LOCKED)""".replace("NOW_MS", NOW_MS),
                ps -> ps.setInt(1, limit));
    }

    private static LimitRow limit(ResultSet rs) throws SQLException {
        return new LimitRow(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getTimestamp(4).toInstant(),
                rs.getTimestamp(5).toInstant());
    }

    private static BucketRow bucket(ResultSet rs) throws SQLException {
        Timestamp paused = rs.getTimestamp(6);
        return new BucketRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getInt(5),
                paused == null ? 0 : paused.toInstant().toEpochMilli(), rs.getString(7));
    }
}
