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

    /**
     * Scans and joins whose cost grows with a table are off: from the start on the keyed pool, after
     * {@link #keyedPlans()} elsewhere; until {@link #customPlans()}.
     */
    private boolean scansOff;

    /** A single autocommitted statement (see {@link Database#inOneStatement}). */
    private final boolean oneStatement;

    StoreTx(Connection connection, boolean genericPlans, boolean oneStatement) {
        this(connection, genericPlans, oneStatement, false);
    }

    StoreTx(Connection connection, boolean genericPlans, boolean oneStatement, boolean keyed) {
        this.connection = connection;
        this.genericPlans = genericPlans;
        this.oneStatement = oneStatement;
        this.scansOff = keyed;
    }

    /**
     * From here to the end of the transaction every statement is planned with its parameters and the
     * default planner settings, as on the main pool (see {@link Database#inInsertTx}); a no-op there
     * unless {@link #keyedPlans()} was called. The inserts' and claims' transactions call it before a
     * join or a scan, whose generic plan, made while a table was small, could outlive that.
     */
    public void customPlans() {
        if (!genericPlans && !scansOff) return;
        if (oneStatement) throw new IllegalStateException("a single autocommitted statement cannot switch to custom plans");
        // One round trip, whatever has to change.
        StringBuilder sql = new StringBuilder("SELECT 1");
        if (genericPlans) sql.append(", set_config('plan_cache_mode', 'force_custom_plan', true)");
        if (scansOff) sql.append(SCANS.formatted("on", "on", "on", "on"));
        query(sql.toString(), ps -> { }, rs -> null);
        genericPlans = false;
        scansOff = false;
    }

    /**
     * From here until {@link #customPlans()}, no sequential or bitmap scan, hash or merge join (one round
     * trip; a no-op on the keyed pool, whose sessions start so). For a batch of statements that reach the
     * history tables (drover_run, drover_step_run) by primary key from arrays: with the default costs a
     * custom plan of a few hundred keys hashes the whole table instead of probing its key once per row
     * (measured in the DAG benchmark: 32 ms instead of 4 for 600 steps against 80,000 rows, and growing
     * with the history), and its row estimates come from statistics that say no run is unfinished.
     */
    public void keyedPlans() {
        if (scansOff) return;
        if (oneStatement) throw new IllegalStateException("a single autocommitted statement cannot switch its planner settings");
        query("SELECT 1" + SCANS.formatted("off", "off", "off", "off"), ps -> { }, rs -> null);
        scansOff = true;
    }

    private static final String SCANS = ", set_config('enable_seqscan', '%s', true), set_config('enable_bitmapscan', '%s', true),"
            + " set_config('enable_hashjoin', '%s', true), set_config('enable_mergejoin', '%s', true)";

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

    /** Streams rows in COPY text format into a table ({@code sql} is the {@code COPY ... FROM STDIN}). */
    long copyIn(String sql, byte[] rows) {
        try {
            org.postgresql.copy.CopyIn in = connection.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(sql);
            try {
                in.writeToCopy(rows, 0, rows.length);
                return in.endCopy();
            } finally {
                if (in.isActive()) in.cancelCopy();
            }
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
