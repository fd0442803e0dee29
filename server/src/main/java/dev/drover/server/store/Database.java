package dev.drover.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;

/**
 * The one door to PostgreSQL: a HikariCP pool whose schema Flyway owns, and transactions around it.
 * Only classes of this package see JDBC; the engine works with {@link StoreTx} and the *Queries classes.
 *
 * <p>Two pools with different planning. The main one plans every execution with its parameters (see
 * {@link #open}). A small second one, for transactions that are multi-row inserts from arrays (the
 * group-committed triggers), keeps PostgreSQL's default: such an insert has only one plan, and planning
 * it afresh every time was a quarter of PostgreSQL's statement time at 2,000 triggers/s (the task
 * insert planned longer than it ran). Without an extra round trip per transaction, which a
 * {@code SET LOCAL} would cost.
 *
 * <p>A third pool, for single statements whose every access is by key (the one-statement completion of
 * single-step runs), plans with the planner's size-dependent paths switched off: no sequential or bitmap
 * scans, no hash or merge joins. Such a statement then has one plan at any table size, an index probe per
 * key, which may be cached (no planning per call; it was ~0.8 ms of each completion's ~2.5 ms under a
 * steady trigger load). Custom plans of the same statement had picked a hash join over a sequential scan
 * of drover_task, or a bitmap scan of the per-worker index through thousands of dead entries, whenever
 * the statistics saw a small table.
 */
public final class Database implements AutoCloseable {
    /** Connections of the insert pool: one per group-commit writer is enough. */
    public static final int INSERT_POOL_SIZE = 8;
    /** Connections of the keyed pool: the dispatcher's probe and the completions of concurrent report batches. */
    private static final int KEYED_POOL_SIZE = 8;
    private final HikariDataSource pool;
    private final HikariDataSource insertPool;
    private final HikariDataSource keyedPool;
    private final String jdbcUrl;
    private final String user;
    private final String password;

    private Database(HikariDataSource pool, HikariDataSource insertPool, HikariDataSource keyedPool, String jdbcUrl,
                     String user, String password) {
        this.pool = pool;
        this.insertPool = insertPool;
        this.keyedPool = keyedPool;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /** Starts listening on the channels; the handler gets (channel, payload) on a dedicated thread. */
    public Notifications listen(java.util.List<String> channels, java.util.function.BiConsumer<String, String> handler) {
        return new Notifications(jdbcUrl, user, password, channels, handler);
    }

    /** Sends a notification at once (its own transaction). */
    public void notify(String channel, String payload) {
        inTx(tx -> {
            tx.query("SELECT pg_notify(?, ?)", ps -> {
                ps.setString(1, channel);
                ps.setString(2, payload);
            }, rs -> null);
            return null;
        });
    }

    /** Opens the pool and brings the schema up to date. */
    public static Database open(String jdbcUrl, String user, String password, int maxPoolSize) {
        HikariDataSource ds = new HikariDataSource(poolConfig("drover", jdbcUrl, user, password, maxPoolSize, Planning.CUSTOM));
        try {
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").table("drover_schema_history")
                    .baselineOnMigrate(true).load().migrate();
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        HikariDataSource inserts = null;
        HikariDataSource keyed;
        try {
            inserts = new HikariDataSource(poolConfig("drover-inserts", jdbcUrl, user, password, INSERT_POOL_SIZE, Planning.DEFAULT));
            keyed = new HikariDataSource(poolConfig("drover-keyed", jdbcUrl, user, password, KEYED_POOL_SIZE, Planning.KEYED));
        } catch (RuntimeException e) {
            if (inserts != null) inserts.close();
            ds.close();
            throw e;
        }
        return new Database(ds, inserts, keyed, jdbcUrl, user, password);
    }

    /** How a pool's connections plan their statements (see the class comment). */
    private enum Planning { CUSTOM, DEFAULT, KEYED }

    private static HikariConfig poolConfig(String name, String jdbcUrl, String user, String password, int size,
                                           Planning planning) {
        boolean customPlans = planning == Planning.CUSTOM;
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(jdbcUrl);
        if (user != null) cfg.setUsername(user);
        if (password != null) cfg.setPassword(password);
        cfg.setMaximumPoolSize(size);
        cfg.setMinimumIdle(Math.min(customPlans ? 4 : 2, size));
        cfg.setPoolName(name);
        cfg.setAutoCommit(false);
        // When the database is down, callers learn it (503 / UNAVAILABLE) within 3 s instead of hanging.
        cfg.setConnectionTimeout(3_000);
        cfg.setValidationTimeout(2_000);
        // Fail start-up at once with the driver's message when the database is unreachable.
        cfg.setInitializationFailTimeout(10_000);
        cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        cfg.addDataSourceProperty("tcpKeepAlive", "true");
        cfg.addDataSourceProperty("ApplicationName", "drover-server");
        // Plan every execution with its parameters. With PostgreSQL's default, a prepared statement
        // switches to a generic plan after five executions, and the hot tables start empty: a generic
        // plan made then (a sequential scan of drover_run, cheap on an empty table) stayed cached while
        // the table grew to 100,000s of rows, until the next autovacuum ANALYZE invalidated it. In the
        // steady benchmark that stalled the completion path for 5-10 s at a time (worker full, reports
        // crawling); a custom plan costs far less than that once.
        if (customPlans) cfg.addDataSourceProperty("options", "-c plan_cache_mode=force_custom_plan");
        if (planning == Planning.KEYED) {
            cfg.addDataSourceProperty("options", "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"
                    + " -c enable_bitmapscan=off -c enable_hashjoin=off -c enable_mergejoin=off");
        }
        return cfg;
    }

    /** A unit of work in one transaction; committed when the body returns, rolled back when it throws. */
    @FunctionalInterface
    public interface TxBody<T> {
        T apply(StoreTx tx);
    }

    public <T> T inTx(TxBody<T> body) {
        return inTx(pool, false, false, body);
    }

    /**
     * A transaction on the insert pool, whose statements may keep generic plans: for bodies that are
     * multi-row inserts from arrays. Before anything whose plan depends on a table's size (a join, a
     * lookup that is not by primary key) the body calls {@link StoreTx#customPlans()}.
     */
    public <T> T inInsertTx(TxBody<T> body) {
        return inTx(insertPool, true, false, body);
    }

    /**
     * One statement that is a transaction by itself (autocommit), on the insert pool: one round trip to
     * the database instead of two (the statement, then COMMIT); it is as durable as a committed
     * transaction when the call returns. The body must issue exactly one statement, and no statement
     * whose plan depends on a table's size ({@link StoreTx#customPlans()} throws here). On this
     * machine's VM every round trip costs two thread wake-ups, ~0.5 ms each when the box is idle,
     * which is most of a single trigger's latency.
     */
    public <T> T inOneStatement(TxBody<T> body) {
        return inOneStatement(insertPool, true, body);
    }

    /**
     * As {@link #inOneStatement}, on the keyed pool: for a statement that reaches the hot tables by
     * index only (primary keys, a unique or the ready index), never by a scan whose cost depends on a
     * table's size. Its plan is made once and cached.
     */
    public <T> T inOneKeyedStatement(TxBody<T> body) {
        return inOneStatement(keyedPool, true, body);
    }

    /**
     * A transaction on the keyed pool: its statements run cached generic plans with scans and joins whose
     * cost grows with a table switched off, as {@link #inOneKeyedStatement}'s, until the body calls
     * {@link StoreTx#customPlans()}, which restores the defaults for the rest of the transaction. For
     * a transaction whose first statements are keyed (the dispatcher's claims) and whose others are
     * rare; the body calls {@code customPlans()} before those.
     */
    public <T> T inKeyedTx(TxBody<T> body) {
        return inTx(keyedPool, true, true, body);
    }

    private <T> T inOneStatement(HikariDataSource from, boolean genericPlans, TxBody<T> body) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = from.getConnection()) {
                c.setAutoCommit(true); // no round trip: the driver only stops sending BEGIN; Hikari resets it
                return body.apply(new StoreTx(c, genericPlans, true));
            } catch (SQLException e) {
                throw StoreException.wrap(e);
            } catch (StoreException e) {
                // A failed statement changed nothing, so a deadlock victim may simply run again.
                if (attempt >= 3 || !e.isRetryableConflict()) throw e;
            }
        }
    }

    private <T> T inTx(HikariDataSource from, boolean genericPlans, boolean keyed, TxBody<T> body) {
        for (int attempt = 1; ; attempt++) {
            try {
                return inTxOnce(from, genericPlans, keyed, body);
            } catch (StoreException e) {
                // Deadlocks and serialization failures roll the whole transaction back; the body only
                // builds state inside the transaction, so running it again is safe.
                if (attempt >= 3 || !e.isRetryableConflict()) throw e;
            }
        }
    }

    private <T> T inTxOnce(HikariDataSource from, boolean genericPlans, boolean keyed, TxBody<T> body) {
        try (Connection c = from.getConnection()) {
            try {
                T result = body.apply(new StoreTx(c, genericPlans, false, keyed));
                c.commit();
                return result;
            } catch (RuntimeException | Error e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw StoreException.wrap(e);
        }
    }

    /**
     * A connection of its own, outside the pools, for tools that measure the database itself
     * ({@code drover bench ceiling --shape}); the caller closes it. The engine never uses this.
     */
    public Connection openConnection() throws SQLException {
        return java.sql.DriverManager.getConnection(jdbcUrl, user, password);
    }

    /** True when a trivial query answers within two seconds. */
    public boolean ping() {
        try (Connection c = pool.getConnection(); var st = c.createStatement()) {
            st.setQueryTimeout(2);
            st.execute("SELECT 1");
            c.commit();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** Server version and the settings that matter for durability and speed (for the benchmark report). */
    public java.util.Map<String, String> settings() {
        return inTx(tx -> tx.settings());
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; Hikari evicts it
        }
    }

    @Override
    public void close() {
        keyedPool.close();
        insertPool.close();
        pool.close();
    }
}
