package dev.drover.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An open transaction. The engine passes it to the *Queries classes; it never sees the connection.
 * The small JDBC helpers here keep every query in the *Queries classes a few readable lines.
 */
public final class StoreTx {
    final Connection connection;
    /** On the insert or keyed pool, until {@link #customPlans()}: statements may run a cached generic plan. */
    private boolean genericPlans;

    /** On the keyed pool: scans and joins whose cost grows with a table are off until {@link #customPlans()}. */
    private final boolean keyed;

    /** A single autocommitted statement (see {@link Database#inOneStatement}). */
    private final boolean oneStatement;

    StoreTx(Connection connection, boolean genericPlans, boolean oneStatement) {
        this(connection, genericPlans, oneStatement, false);
    }

    StoreTx(Connection connection, boolean genericPlans, boolean oneStatement, boolean keyed) {
        this.connection = connection;
        this.genericPlans = genericPlans;
        this.oneStatement = oneStatement;
        this.keyed = keyed;
    }

    /**
     * From here to the end of the transaction every statement is planned with its parameters, as on the
     * main pool (see {@link Database#inInsertTx}); a no-op there. The inserts' transactions call it
     * before a join or a scan, whose generic plan, made while a table was small, could outlive that.
     */
    public void customPlans() {
        if (!genericPlans) return;
        if (oneStatement) throw new IllegalStateException("a single autocommitted statement cannot switch to custom plans");
        if (keyed) {
            // One round trip: the keyed pool's session settings back to the defaults, for this transaction.
            query("""
                    SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('enable_seqscan', 'on', true),
                           set_config('enable_bitmapscan', 'on', true), set_config('enable_hashjoin', 'on', true),
                           set_config('enable_mergejoin', 'on', true)""", ps -> { }, rs -> null);
        } else {
            update("SET LOCAL plan_cache_mode = force_custom_plan", ps -> { });
        }
        genericPlans = false;
    }

    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    @FunctionalInterface
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) out.add(mapper.map(rs));
                return out;
            }
        } catch (SQLException e) {
            throw StoreException.wrap(e);
        }
    }

    int update(String sql, Binder binder) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw StoreException.wrap(e);
        }
    }

    java.sql.Array array(String type, Object[] values) {
        return new ArrayLiteral(type, values);
    }

    Map<String, String> settings() {
        Map<String, String> out = new LinkedHashMap<>();
        query("SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                        + "('server_version','synchronous_commit','fsync','shared_buffers','max_connections','wal_level')",
                ps -> { }, rs -> out.put(rs.getString(1), rs.getString(2)));
        return out;
    }

    /**
     * Takes a transaction-scoped advisory lock if no other transaction holds it: the way replicas agree
     * that exactly one of them does a duty at a time (released at commit, or when a replica dies).
     */
    public boolean tryExclusive(String duty) {
        return query("SELECT pg_try_advisory_xact_lock(hashtext(?))", ps -> ps.setString(1, duty),
                rs -> rs.getBoolean(1)).get(0);
    }

    /** The database clock: every decision several processes must agree on uses it. */
    public java.time.Instant now() {
        return query("SELECT now()", ps -> { }, rs -> rs.getTimestamp(1).toInstant()).get(0);
    }
}
