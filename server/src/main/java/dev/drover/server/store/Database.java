package dev.drover.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;

/**
 * The one door to PostgreSQL: a HikariCP pool whose schema Flyway owns, and transactions around it.
 * Only classes of this package see JDBC; the engine works with {@link StoreTx} and the *Queries classes.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource pool;
    private final String jdbcUrl;
    private final String user;
    private final String password;

    private Database(HikariDataSource pool, String jdbcUrl, String user, String password) {
        this.pool = pool;
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
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(jdbcUrl);
        if (user != null) cfg.setUsername(user);
        if (password != null) cfg.setPassword(password);
        cfg.setMaximumPoolSize(maxPoolSize);
        cfg.setMinimumIdle(Math.min(4, maxPoolSize));
        cfg.setPoolName("drover");
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
        cfg.addDataSourceProperty("options", "-c plan_cache_mode=force_custom_plan");
        HikariDataSource ds = new HikariDataSource(cfg);
        try {
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").table("drover_schema_history")
                    .baselineOnMigrate(true).load().migrate();
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        return new Database(ds, jdbcUrl, user, password);
    }

    /** A unit of work in one transaction; committed when the body returns, rolled back when it throws. */
    @FunctionalInterface
    public interface TxBody<T> {
        T apply(StoreTx tx);
    }

    public <T> T inTx(TxBody<T> body) {
        for (int attempt = 1; ; attempt++) {
            try {
                return inTxOnce(body);
            } catch (StoreException e) {
                // Deadlocks and serialization failures roll the whole transaction back; the body only
                // builds state inside the transaction, so running it again is safe.
                if (attempt >= 3 || !e.isRetryableConflict()) throw e;
            }
        }
    }

    private <T> T inTxOnce(TxBody<T> body) {
        try (Connection c = pool.getConnection()) {
            try {
                T result = body.apply(new StoreTx(c));
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
        pool.close();
    }
}
