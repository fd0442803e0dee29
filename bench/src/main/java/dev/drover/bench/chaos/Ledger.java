package dev.drover.bench.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The external record of step executions: one row per execution in {@code chaos_ledger}, written
 * by the step itself over plain JDBC before it returns (stamped on the database clock; steps that
 * need it also stamp their end, {@code exited_at}). A small connection pool; a broken
 * connection (PostgreSQL restarted, backend terminated) is dropped and the insert retried for up
 * to two minutes, so an outage delays a step rather than losing its ledger row.
 */
public final class Ledger implements AutoCloseable {
  /** DDL of the ledger table (the harness creates it). */
  public static final String DDL =
      "CREATE TABLE IF NOT EXISTS chaos_ledger (seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, run_id text NOT NULL,"
          + " step text NOT NULL, attempt int NOT NULL, worker text NOT NULL,"
          + " at timestamptz NOT NULL DEFAULT clock_timestamp(), tag text, exited_at timestamptz)";

  private final String jdbcUrl;
  private final String worker;
  private final BlockingQueue<Connection> idle = new ArrayBlockingQueue<>(64);

  /**
   * @param jdbcUrl JDBC URL of the shared database
   * @param worker this worker's name, written with every row
   */
  public Ledger(String jdbcUrl, String worker) {
    this.jdbcUrl = jdbcUrl;
    this.worker = worker;
  }

  /** Appends one execution; retries through outages (up to 2 minutes), then throws. */
  public void record(String runId, String step, int attempt) {
    record(runId, step, attempt, null);
  }

  /**
   * Appends one execution with a tag (a cron tick, a concurrency key); retries through outages (up to
   * 2 minutes), then throws.
   *
   * <p>The row's id is chosen here, so an insert retried after a connection broke around its
   * commit cannot write the execution twice.
   *
   * @return the row's id, for {@link #exit(UUID)}
   */
  public UUID record(String runId, String step, int attempt, String tag) {
    UUID id = UUID.randomUUID();
    withRetry(c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO chaos_ledger(id, run_id, step, attempt, worker, tag)"
          + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
        ps.setObject(1, id);
        ps.setString(2, runId);
        ps.setString(3, step);
        ps.setInt(4, attempt);
        ps.setString(5, worker);
        ps.setString(6, tag);
        ps.executeUpdate();
        return 0L;
      }
    });
    return id;
  }

  /** Stamps the end of the execution {@code id} (on the database clock); idempotent. */
  public void exit(UUID id) {
    withRetry(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE chaos_ledger SET exited_at = clock_timestamp() WHERE id = ? AND exited_at IS NULL")) {
        ps.setObject(1, id);
        ps.executeUpdate();
        return 0L;
      }
    });
  }

  private interface Op {
    long apply(Connection c) throws SQLException;
  }

  private long withRetry(Op op) {
    long deadline = System.nanoTime() + 120_000_000_000L;
    long backoffMs = 50;
    while (true) {
      Connection c = idle.poll();
      try {
        if (c == null) c = DriverManager.getConnection(jdbcUrl);
        long r = op.apply(c);
        if (!idle.offer(c)) closeQuietly(c);
        return r;
      } catch (SQLException e) {
        closeQuietly(c);
        if (System.nanoTime() > deadline) throw new IllegalStateException("ledger insert failed: " + e, e);
        try {
          Thread.sleep(backoffMs);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while writing the ledger", ie);
        }
        backoffMs = Math.min(1000, backoffMs * 2);
      }
    }
  }

  private static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException ignored) {
      // broken anyway
    }
  }

  @Override
  public void close() {
    Connection c;
    while ((c = idle.poll()) != null) closeQuietly(c);
  }
}
