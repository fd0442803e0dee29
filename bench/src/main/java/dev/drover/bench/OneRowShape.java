package dev.drover.bench;

import dev.drover.server.store.Database;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.postgresql.PGConnection;

/**
 * The store shape the performance issue's remaining throughput gaps point to, measured from JDBC
 * beside today's ({@code drover bench ceiling --shape one-row}): a single-step run is <em>one</em> hot
 * row (the run and its task together) while it is queued or leased, and moves to a history table in
 * the statement that records its success. Today's schema writes three rows per run (run, step, task),
 * updates the task at the claim and the run and step at the completion.
 *
 * <p>This is a measurement, not the engine: the tables live beside the engine's in the benchmark's
 * fresh database ({@code drover_shape_job}, {@code drover_shape_done}) and are dropped afterwards. The
 * statements are the ones an engine on this shape would need for the burn-down's runs, with the same
 * guarantees as today's: the claim locks with {@code SKIP LOCKED} and fences with the attempt number,
 * the completion only takes attempts still leased to the reporting worker, and every statement is
 * durable when it returns. The history table keeps what today's run table is read by: its primary key,
 * the list by workflow, and the BRIN index on {@code finished_at} for retention.
 *
 * <p>Chosen where a real engine would have a choice: runs are written by {@code COPY} (as today's bulk
 * path writes batches of 500+); claims and completions are single autocommitted statements (one round
 * trip each); the hot table has no list-by-workflow index (for a single-step run the action names its
 * workflow, so the ready index lists queued runs, and leased ones are few).
 */
final class OneRowShape {
  static final String DDL = """
      CREATE TABLE drover_shape_job (
          id                   uuid        PRIMARY KEY,
          tenant_id            text        NOT NULL,
          workflow_name        text        NOT NULL,
          workflow_version     text        NOT NULL,
          step_name            text        NOT NULL,
          action               text        NOT NULL,
          input                jsonb       NOT NULL,
          metadata             jsonb       NOT NULL DEFAULT '{}',
          priority             smallint    NOT NULL DEFAULT 0,
          rank                 bigint      NOT NULL,
          state                text        NOT NULL CHECK (state IN ('queued', 'leased')),
          attempt              int         NOT NULL DEFAULT 0,
          max_attempts         int         NOT NULL,
          slot_cost            int         NOT NULL DEFAULT 1,
          execution_timeout_ms bigint      NOT NULL DEFAULT 0,
          worker_id            uuid,
          leased_at            timestamptz,
          created_at           timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
      %s
      CREATE TABLE drover_shape_done (
          id               uuid        PRIMARY KEY,
          tenant_id        text        NOT NULL,
          workflow_name    text        NOT NULL,
          workflow_version text        NOT NULL,
          step_name        text        NOT NULL,
          status           text        NOT NULL,
          input            jsonb       NOT NULL,
          output           jsonb,
          metadata         jsonb       NOT NULL,
          attempts         int         NOT NULL,
          worker_id        uuid,
          created_at       timestamptz NOT NULL,
          started_at       timestamptz,
          finished_at      timestamptz NOT NULL
      );
      CREATE INDEX drover_shape_done_by_workflow ON drover_shape_done (tenant_id, workflow_name, id DESC);
      CREATE INDEX drover_shape_done_finished ON drover_shape_done USING brin (finished_at) WITH (pages_per_range = 32);
      """;

  private static final String CLAIM = """
      WITH c AS (
          SELECT id FROM drover_shape_job
          WHERE tenant_id = ? AND action = ? AND state = 'queued'
          ORDER BY rank, id LIMIT ? FOR UPDATE SKIP LOCKED)
      UPDATE drover_shape_job j SET state = 'leased', attempt = j.attempt + 1, worker_id = ?, leased_at = now()
      FROM c WHERE j.id = c.id
      RETURNING j.id, j.attempt, j.input::text, j.metadata::text""";

  /**
   * The success's first half, shared by both moves: the fenced delete of the hot rows. Written as today's
   * one-statement completion is (TaskQueries.COMPLETE_SINGLE_STEPS), for the same reasons: rows by key
   * with {@code = ANY}, each one's attempt and output by its position in the arrays (no join with them),
   * and the fence's tests written so that they prove no partial index's predicate (else the plan reads
   * every task leased to the worker for each call).
   */
  private static final String DELETE_LEASED = """
      WITH k AS (SELECT ?::uuid[] AS ids, ?::int[] AS attempts, ?::text[] AS outputs),
      d AS (
          DELETE FROM drover_shape_job j
          WHERE j.id = ANY((SELECT ids FROM k)::uuid[])
            AND j.attempt = ((SELECT attempts FROM k))[array_position((SELECT ids FROM k), j.id)]
            AND j.state IS NOT DISTINCT FROM 'leased' AND j.worker_id IS NOT DISTINCT FROM ?
          RETURNING j.id, j.tenant_id, j.workflow_name, j.workflow_version, j.step_name, j.input,
                    ((SELECT outputs FROM k))[array_position((SELECT ids FROM k), j.id)] AS output,
                    j.metadata, j.priority, j.attempt, j.worker_id, j.created_at, j.leased_at)
      """;

  /** The deleted rows into the shape's own history table. */
  private static final String COMPLETE = DELETE_LEASED + """
      INSERT INTO drover_shape_done (id, tenant_id, workflow_name, workflow_version, step_name, status, input, output,
                                     metadata, attempts, worker_id, created_at, started_at, finished_at)
      SELECT id, tenant_id, workflow_name, workflow_version, step_name, 'succeeded', input, output::jsonb,
             metadata, attempt, worker_id, created_at, leased_at, now()
      FROM d""";

  /**
   * The same move, into today's history tables instead of a new one: a finished run row and a finished
   * step row, as today's completion leaves them, so every reader of finished runs (API, dashboard,
   * retention) would stay as it is and only readers of active runs would need the hot table.
   */
  private static final String COMPLETE_INTO_RUN_TABLES = DELETE_LEASED + """
      , r AS (
          INSERT INTO drover_run (id, tenant_id, workflow_name, workflow_version, status, input, output, metadata,
                                  priority, pending_steps, created_at, started_at, finished_at)
          SELECT id, tenant_id, workflow_name, workflow_version, 'succeeded', input, output::jsonb, metadata,
                 priority, 0, created_at, leased_at, now()
          FROM d)
      INSERT INTO drover_step_run (run_id, step_name, status, pending_parents, attempts, output, worker_id,
                                   started_at, finished_at)
      SELECT id, step_name, 'succeeded', 0, attempt, output::jsonb, worker_id, leased_at, now()
      FROM d""";

  /**
   * No history at all: the success is the fenced delete alone, as graphile-worker deletes a completed
   * job. Not a shape Drover can take (its runs stay listable after they end); it measures what keeping
   * history costs, i.e. how fast a queue on this machine can go when it keeps nothing.
   */
  private static final String COMPLETE_WITHOUT_HISTORY = DELETE_LEASED + "SELECT count(*) FROM d";

  /** Where a success goes. */
  enum History {
    /** The shape's own history table, {@code drover_shape_done}. */
    OWN,
    /** Today's {@code drover_run} and {@code drover_step_run}, as finished rows. */
    RUN_TABLES,
    /** Nowhere: the row is deleted (see {@link #COMPLETE_WITHOUT_HISTORY}). */
    NONE
  }

  /** A leased attempt: what a worker reports back. */
  record Held(UUID id, int attempt) {}

  /** Today's way: the claim takes the row out of a partial ready index and into a per-worker one. */
  static final String PARTIAL_INDEXES = """
      CREATE INDEX drover_shape_job_ready ON drover_shape_job (tenant_id, action, rank, id) WHERE state = 'queued';
      CREATE INDEX drover_shape_job_worker ON drover_shape_job (worker_id) WHERE state = 'leased';""";
  /**
   * The claim changes no indexed column, so its update can be HOT (no index entry written): the ready
   * index covers leased rows too and the claim skips them by their state, and there is no per-worker
   * index (a lost worker's leases are found by a scan of the hot table, a rare event).
   */
  static final String HOT_INDEXES = """
      CREATE INDEX drover_shape_job_ready ON drover_shape_job (tenant_id, action, rank, id);""";

  private final Database db;
  private final boolean hot;
  private final History history;

  /**
   * @param hot indexes the claim's update does not touch ({@link #HOT_INDEXES})
   * @param history where successes go
   */
  OneRowShape(Database db, boolean hot, History history) {
    this.db = db;
    this.hot = hot;
    this.history = history;
  }

  void create() throws SQLException {
    try (Connection c = db.openConnection(); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS drover_shape_job, drover_shape_done");
      st.execute(DDL.formatted(hot ? HOT_INDEXES : PARTIAL_INDEXES));
    }
  }

  void drop() throws SQLException {
    try (Connection c = db.openConnection(); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS drover_shape_job, drover_shape_done");
    }
  }

  /** One session's statements; not thread-safe (one per thread, as the engine's pools give). */
  final class Session implements AutoCloseable {
    private final Connection c;
    private final PreparedStatement claim;
    private final PreparedStatement complete;

    Session() throws SQLException {
      c = db.openConnection();
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        // As the engine's keyed pool: the completion reaches its rows by key from arrays, and with the
        // default costs its plan would hash or scan the hot table.
        st.execute("SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_hashjoin = off;"
            + " SET enable_mergejoin = off");
      }
      claim = c.prepareStatement(CLAIM);
      complete = c.prepareStatement(switch (history) {
        case OWN -> COMPLETE;
        case RUN_TABLES -> COMPLETE_INTO_RUN_TABLES;
        case NONE -> COMPLETE_WITHOUT_HISTORY;
      });
    }

    /** Writes queued runs by COPY in one transaction. */
    void insert(List<UUID> ids, List<String> inputs, String tenant, String workflow, String step, String action,
                long rank) throws Exception {
      StringBuilder b = new StringBuilder(ids.size() * 160);
      for (int i = 0; i < ids.size(); i++) {
        b.append(ids.get(i)).append('\t').append(tenant).append('\t').append(workflow).append("\t1\t").append(step)
            .append('\t').append(action).append('\t').append(copyEscape(inputs.get(i))).append("\t{}\t0\t").append(rank)
            .append("\tqueued\t0\t3\t1\t0\n");
      }
      c.setAutoCommit(false);
      try {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY drover_shape_job (id, tenant_id, workflow_name,"
                + " workflow_version, step_name, action, input, metadata, priority, rank, state, attempt, max_attempts,"
                + " slot_cost, execution_timeout_ms) FROM STDIN",
            new ByteArrayInputStream(b.toString().getBytes(StandardCharsets.UTF_8)));
        c.commit();
      } catch (Exception e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }

    List<Held> claim(String tenant, String action, int want, UUID worker) throws SQLException {
      claim.setString(1, tenant);
      claim.setString(2, action);
      claim.setInt(3, want);
      claim.setObject(4, worker);
      List<Held> out = new ArrayList<>(want);
      try (ResultSet rs = claim.executeQuery()) {
        while (rs.next()) {
          rs.getString(3); // the input and metadata go to the worker, as today's claim reads them
          rs.getString(4);
          out.add(new Held(rs.getObject(1, UUID.class), rs.getInt(2)));
        }
      }
      return out;
    }

    /** Records successes; returns how many were still leased to the worker (and moved to history, if kept). */
    int complete(List<Held> done, String output, UUID worker) throws SQLException {
      UUID[] ids = new UUID[done.size()];
      Integer[] attempts = new Integer[done.size()];
      String[] outputs = new String[done.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = done.get(i).id();
        attempts[i] = done.get(i).attempt();
        outputs[i] = output;
      }
      complete.setArray(1, c.createArrayOf("uuid", ids));
      complete.setArray(2, c.createArrayOf("int4", attempts));
      complete.setArray(3, c.createArrayOf("text", outputs));
      complete.setObject(4, worker);
      if (history != History.NONE) return complete.executeUpdate();
      try (ResultSet rs = complete.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }

    long count(String table) throws SQLException {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
        rs.next();
        return rs.getLong(1);
      }
    }

    @Override
    public void close() throws SQLException {
      c.close();
    }
  }

  /** COPY text format: backslash, tab, newline and carriage return escaped. */
  private static String copyEscape(String s) {
    if (s.indexOf('\\') < 0 && s.indexOf('\t') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
  }
}
