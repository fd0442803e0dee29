package dev.drover.bench;

import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.server.store.Database;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.Rows.NewRun;
import dev.drover.server.store.Rows.NewStepRun;
import dev.drover.server.store.Rows.NewTask;
import dev.drover.server.store.TaskQueries;
import dev.drover.server.store.TaskQueries.Claimed;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * {@code ceiling}: the store alone. The same no-op runs as {@code bulk} and {@code burn-down}, written,
 * claimed and completed by the engine's own store statements called straight from JDBC on the server's
 * pools, with no engine, gRPC or worker in between: {@code RunQueries.copyWithSteps} in batches of
 * 10,000 (as a {@code runMany} call writes them; {@code insertWithSteps} below 500), then one thread claiming ({@code TaskQueries.claim},
 * up to 500 per statement, at most {@code --slots} in flight, as the dispatcher does for one worker)
 * while two others complete what was claimed with {@code TaskQueries.completeSingleSteps} (one
 * statement per 64, on the keyed pool, as the engine records a worker's small report batches). It is the most this schema and these statements give on the
 * machine: the gap to {@code burn-down} is the engine, the transport and the worker; the gap to a
 * target is the store's.
 *
 * <p>{@code --shape one-row} and {@code one-row-hot} run the same threads against the shape the
 * remaining throughput targets point to ({@link OneRowShape}: one hot row per single-step run, moved
 * to history at its success; {@code -hot} with indexes the claim's update does not touch;
 * {@code one-row-run-tables} as {@code -hot}, with history in today's run and step tables), on scratch
 * tables beside the engine's; {@code one-row-no-history} deletes the row at its success and keeps
 * nothing (graphile-worker's shape, which Drover cannot take: it measures what history costs). Each
 * repetition reports every table's inserts, updates, HOT updates and deletes ({@code table_writes}).
 *
 * <p>{@code --mixed}: the inserts run while the drain does (the drain waits for runs not yet written),
 * the store-alone form of {@code steady} and {@code concurrent-triggers}, where runs arrive while others
 * are worked: throughput is then runs / (first insert to last completion). With {@code --batch-size 32}
 * each insert is as large as a group of 32 concurrent single triggers can ever be.
 */
final class Ceiling implements Workload {
  private static final String TENANT = "default";
  private static final String STEP = "noop";
  private static final String ACTION = NoopWorkflow.NAME + "/" + STEP;
  private static final int CLAIM_BATCH = 500;
  private static final long LEASE_MS = 30_000;
  /** Successes per completion statement: the engine's one-statement form takes up to 64 (StepReports). */
  private static final int COMPLETE_CHUNK = 64;
  private static final int COMPLETERS = 2;
  static final String SHAPE_TODAY = "today";
  static final String SHAPE_ONE_ROW = "one-row";
  static final String SHAPE_ONE_ROW_HOT = "one-row-hot";
  static final String SHAPE_ONE_ROW_RUN_TABLES = "one-row-run-tables";
  static final String SHAPE_ONE_ROW_NO_HISTORY = "one-row-no-history";
  static final List<String> SHAPES = List.of(SHAPE_TODAY, SHAPE_ONE_ROW, SHAPE_ONE_ROW_HOT, SHAPE_ONE_ROW_RUN_TABLES,
      SHAPE_ONE_ROW_NO_HISTORY);

  @Override
  public String name() {
    return "ceiling";
  }

  @Override
  public String description() {
    return "the store alone: the engine's insert, claim and completion statements from JDBC (no engine, gRPC or worker)";
  }

  @Override
  public void check(BenchConfig c) {
    if (c.address != null) {
      throw new BenchUsageException("--address: ceiling calls the store in this JVM; it needs an in-process server");
    }
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(BurnDown.DEFAULT_RUNS);
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    int callers = h.cfg.concurrencyOr(1);
    String shape = h.cfg.shapeOr(SHAPE_TODAY);
    boolean mixed = h.cfg.mixed;
    Database db = h.target.server().database();
    Shape<?> store = shape.equals(SHAPE_TODAY) ? new Today(db)
        : new OneRow(db, !shape.equals(SHAPE_ONE_ROW), switch (shape) {
          case SHAPE_ONE_ROW_RUN_TABLES -> OneRowShape.History.RUN_TABLES;
          case SHAPE_ONE_ROW_NO_HISTORY -> OneRowShape.History.NONE;
          default -> OneRowShape.History.OWN;
        });
    java.util.Map<String, long[]> before = new java.util.HashMap<>();
    for (String t : store.tables()) before.put(t, readCounters(db, t));
    int warmup = h.cfg.warmupOr(2000) == 0 ? 0 : Math.min(runs, 20_000);
    Recorder inserts = new Recorder(3);
    Recorder claims = new Recorder(3);
    Recorder completes = new Recorder(3);
    AtomicLong claimStatements = new AtomicLong();
    long insertNanos;
    long drainNanos;
    try {
      if (warmup > 0) {
        h.progress("warming up (" + shape + " shape): " + warmup + " runs inserted, claimed and completed (unmeasured)");
        insert(store, warmup, batch, callers, new Recorder(3));
        drain(store, warmup, slots, new Recorder(3), new Recorder(3), new AtomicLong(), () -> false);
      }
      if (mixed) {
        h.progress("inserting " + runs + " runs (" + store.insertNote() + ", batches of " + batch + ", " + callers
            + " caller(s)) while draining them: one thread claims (up to " + CLAIM_BATCH + " per statement, " + slots
            + " in flight), two complete (64 per statement)");
        ExecutorService inserter = Executors.newSingleThreadExecutor();
        try {
          long start = System.nanoTime();
          Future<Long> written = inserter.submit(() -> insert(store, runs, batch, callers, inserts));
          drain(store, runs, slots, claims, completes, claimStatements, () -> !written.isDone());
          drainNanos = System.nanoTime() - start;
          insertNanos = written.get();
        } finally {
          inserter.shutdownNow();
        }
      } else {
        h.progress("inserting " + runs + " runs (" + store.insertNote() + ", batches of " + batch + ", " + callers
            + " caller(s))");
        insertNanos = insert(store, runs, batch, callers, inserts);
        h.progress("draining: one thread claims (up to " + CLAIM_BATCH + " per statement, " + slots
            + " in flight), two complete (64 per statement)");
        drainNanos = drain(store, runs, slots, claims, completes, claimStatements, () -> false);
      }
      store.check(runs + warmup);
    } finally {
      store.close();
    }
    ObjectNode tables = tableStats(db, store.tables(), store.statsWaitMs(), runs + warmup, before);

    ObjectNode p = Workload.params();
    p.put("shape", shape);
    p.put("slots", slots);
    p.put("batch_size", batch);
    p.put("concurrency", callers);
    p.put("claim_batch", CLAIM_BATCH);
    p.put("mixed", mixed);
    p.put("warmup", warmup);
    ObjectNode o = Workload.result(p, runs, Workload.seconds(drainNanos), runs / Workload.seconds(drainNanos),
        NullNode.getInstance());
    o.put("insert_seconds", Reports.round(Workload.seconds(insertNanos), 3));
    o.put("insert_per_s", Reports.round(runs / Workload.seconds(insertNanos), 1));
    o.set("insert_call_ms", Reports.percentiles(inserts.getIntervalHistogram()));
    o.put("claim_statements", claimStatements.get());
    o.put("claimed_per_statement", Reports.round(runs / (double) Math.max(1, claimStatements.get()), 1));
    o.set("claim_ms", Reports.percentiles(claims.getIntervalHistogram()));
    o.set("complete_ms", Reports.percentiles(completes.getIntervalHistogram()));
    o.set("table_writes", tables);
    o.put("ceiling_note", store.note());
    return o;
  }

  /**
   * The statements of one store shape, called from several threads: the inserting callers, the one
   * claiming thread and the two completing threads.
   */
  private interface Shape<T> extends AutoCloseable {
    /** Writes runs {@code from .. from + size - 1} as one durable batch. */
    void insert(int from, int size) throws Exception;

    /** Claims up to {@code want} queued tasks (one durable statement or transaction). */
    List<T> claim(int want) throws Exception;

    /** Records the successes of claimed tasks; returns how many the fence let through. */
    int complete(List<T> done) throws Exception;

    /** After the drain: nothing may be left queued or leased, and everything must be in history. */
    void check(int total) throws Exception;

    String insertNote();

    String note();

    /** The tables the shape writes, for their write counters (reported after the sessions closed). */
    List<String> tables();

    /**
     * How long the counters take to arrive: a backend that ends reports at once, an idle pooled one
     * within PostgreSQL's idle flush interval (10 s).
     */
    long statsWaitMs();

    @Override
    void close() throws Exception;
  }

  /** Today's schema and the engine's own statements. */
  private static final class Today implements Shape<Claimed> {
    private final Database db;
    private final RunQueries runQueries = new RunQueries();
    private final TaskQueries tasks = new TaskQueries();
    private final UUID worker = UUID.randomUUID();

    Today(Database db) {
      this.db = db;
    }

    @Override
    public void insert(int from, int size) {
      List<NewRun> rows = new ArrayList<>(size);
      List<NewStepRun> steps = new ArrayList<>(size);
      List<NewTask> taskRows = new ArrayList<>(size);
      long t = System.nanoTime();
      for (int i = 0; i < size; i++) {
        UUID id = uuidV7();
        rows.add(new NewRun(id, TENANT, NoopWorkflow.NAME, "1", new BenchInput(0, from + i, t, 0).json(), "{}", 0,
            null, 1, false, null, null, null, null));
        steps.add(new NewStepRun(id, STEP, "queued", 0, null));
        taskRows.add(new NewTask(TENANT, id, STEP, NoopWorkflow.NAME, "1", 0, 3, 1, 0, 0, null));
      }
      // As the engine writes a runMany call (Runs.writePlain): a batch of 500+ by COPY in one transaction
      // on the insert pool, a smaller one by the array insert with its outcome read back.
      if (RunQueries.copyable(rows, taskRows)) {
        db.inInsertTx(tx -> runQueries.copyWithSteps(tx, rows, steps, taskRows, LEASE_MS));
      } else {
        db.inInsertTx(tx -> {
          RunQueries.Triggered written = runQueries.insertWithSteps(tx, rows, steps, taskRows, LEASE_MS);
          return runQueries.outcome(tx, rows, written.inserted());
        });
      }
    }

    @Override
    public List<Claimed> claim(int want) {
      return db.inTx(tx -> tasks.claim(tx, TENANT, ACTION, want, worker, "{}", LEASE_MS));
    }

    @Override
    public int complete(List<Claimed> done) {
      int k = done.size();
      Long[] ids = new Long[k];
      Integer[] attempts = new Integer[k];
      String[] outputs = new String[k];
      for (int i = 0; i < k; i++) {
        ids[i] = done.get(i).task().id();
        attempts[i] = done.get(i).task().attempt();
        outputs[i] = "null";
      }
      return db.inOneKeyedStatement(tx -> tasks.completeSingleSteps(tx, worker, ids, attempts, outputs)).size();
    }

    @Override
    public void check(int total) {
      // The completion statement's count is the engine's own check (a run it did not finish is not counted).
    }

    @Override
    public String insertNote() {
      return "copyWithSteps from 500 runs a batch, else insertWithSteps, as runMany";
    }

    @Override
    public String note() {
      return "store statements only: copyWithSteps (insertWithSteps below 500) per batch in one transaction, claim (TaskQueries.claim) "
          + "on one thread, completeSingleSteps (keyed pool, 64 per statement) on two; no engine, gRPC or worker";
    }

    @Override
    public List<String> tables() {
      return List.of("drover_run", "drover_step_run", "drover_task");
    }

    @Override
    public long statsWaitMs() {
      return 11_000;
    }

    @Override
    public void close() {}
  }

  /** One hot row per single-step run, moved to history at its success ({@link OneRowShape}). */
  private static final class OneRow implements Shape<OneRowShape.Held> {
    private final OneRowShape shape;
    private final Database db;
    private final OneRowShape.History history;
    /** Step rows already in today's history (other workloads on the same server). */
    private final long historyBefore;
    private final UUID worker = UUID.randomUUID();
    private final List<OneRowShape.Session> sessions = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ThreadLocal<OneRowShape.Session> session = new ThreadLocal<>();

    OneRow(Database db, boolean hot, OneRowShape.History history) throws Exception {
      this.db = db;
      this.history = history;
      shape = new OneRowShape(db, hot, history);
      shape.create();
      historyBefore = history == OneRowShape.History.RUN_TABLES ? session().count("drover_step_run") : 0;
    }

    private OneRowShape.Session session() throws Exception {
      OneRowShape.Session s = session.get();
      if (s == null) {
        s = shape.new Session();
        sessions.add(s);
        session.set(s);
      }
      return s;
    }

    @Override
    public void insert(int from, int size) throws Exception {
      List<UUID> ids = new ArrayList<>(size);
      List<String> inputs = new ArrayList<>(size);
      long t = System.nanoTime();
      for (int i = 0; i < size; i++) {
        ids.add(uuidV7());
        inputs.add(new BenchInput(0, from + i, t, 0).json());
      }
      session().insert(ids, inputs, TENANT, NoopWorkflow.NAME, STEP, ACTION, System.currentTimeMillis());
    }

    @Override
    public List<OneRowShape.Held> claim(int want) throws Exception {
      return session().claim(TENANT, ACTION, want, worker);
    }

    @Override
    public int complete(List<OneRowShape.Held> done) throws Exception {
      return session().complete(done, "null", worker);
    }

    @Override
    public void check(int total) throws Exception {
      long hot = session().count("drover_shape_job");
      long done = switch (history) {
        case RUN_TABLES -> session().count("drover_step_run") - historyBefore;
        case OWN -> session().count("drover_shape_done");
        case NONE -> total; // nothing kept: the completions' fenced counts are the check
      };
      if (hot != 0 || done != total) {
        throw new IllegalStateException("one-row shape: " + hot + " rows left in the hot table, " + done
            + " in history, expected 0 and " + total);
      }
    }

    @Override
    public String insertNote() {
      return "one COPY per batch into the hot table";
    }

    @Override
    public String note() {
      return "one-row shape (OneRowShape, drover_shape_job/drover_shape_done, dropped afterwards): COPY per batch in one "
          + "transaction, claim (one autocommitted statement) on one thread, completion moving rows to history (64 per "
          + "statement) on two; no engine, gRPC or worker";
    }

    @Override
    public List<String> tables() {
      return switch (history) {
        case RUN_TABLES -> List.of("drover_shape_job", "drover_run", "drover_step_run");
        case OWN -> List.of("drover_shape_job", "drover_shape_done");
        case NONE -> List.of("drover_shape_job");
      };
    }

    @Override
    public long statsWaitMs() {
      return 0; // read in close(), before the tables are dropped
    }

    @Override
    public void close() throws Exception {
      for (OneRowShape.Session s : sessions) s.close();
      if (!sessions.isEmpty()) sleep(1_200); // the sessions' backends report as they end
      for (String t : tables()) {
        long[] v = readCounters(db, t);
        if (v != null) TABLE_COUNTERS.put(t, v);
      }
      shape.drop();
    }
  }

  /**
   * Inserts, updates (and how many of them HOT: no index entry written) and deletes per table, from
   * {@code pg_stat_user_tables}. A backend reports its counters when it ends or at most a second after
   * a transaction (when idle, within ten), so this waits for them to arrive. The one-row shape's tables
   * are dropped by then: their counters are read before (see OneRow#close).
   */
  private static ObjectNode tableStats(Database db, List<String> tables, long waitMs, long total,
                                       java.util.Map<String, long[]> before) {
    ObjectNode out = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    // The last table's deletes (today's tasks) or inserts (history) count every run of this repetition.
    long until = System.nanoTime() + waitMs * 1_000_000;
    String last = tables.get(tables.size() - 1);
    for (long[] v = delta(readCounters(db, last), before.get(last)); v != null && Math.max(v[0], v[3]) < total
         && System.nanoTime() < until; v = delta(readCounters(db, last), before.get(last))) {
      sleep(250);
    }
    for (String t : tables) {
      long[] v = TABLE_COUNTERS.remove(t);
      if (v == null) v = readCounters(db, t);
      v = delta(v, before.get(t));
      if (v == null) continue;
      ObjectNode n = out.putObject(t);
      n.put("inserts", v[0]);
      n.put("updates", v[1]);
      n.put("hot_updates", v[2]);
      n.put("deletes", v[3]);
    }
    return out;
  }

  /** This repetition's share of cumulative counters (a table the shape created has none before). */
  private static long[] delta(long[] after, long[] before) {
    if (after == null || before == null) return after;
    long[] d = new long[after.length];
    for (int i = 0; i < d.length; i++) d[i] = after[i] - before[i];
    return d;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Counters read just before a scratch table was dropped. */
  private static final java.util.Map<String, long[]> TABLE_COUNTERS = new java.util.concurrent.ConcurrentHashMap<>();

  private static long[] readCounters(Database db, String table) {
    if (TABLE_COUNTERS.containsKey(table)) return TABLE_COUNTERS.get(table);
    try (java.sql.Connection c = db.openConnection();
         java.sql.PreparedStatement ps = c.prepareStatement(
             "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables WHERE relname = ?")) {
      ps.setString(1, table);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)} : null;
      }
    } catch (java.sql.SQLException e) {
      return null;
    }
  }

  /** Inserts {@code n} queued no-op runs in batches from {@code callers} threads; returns the elapsed nanos. */
  private static long insert(Shape<?> store, int n, int batch, int callers, Recorder calls) throws Exception {
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        done.add(pool.submit(() -> {
          for (int from; (from = next.getAndAdd(batch)) < n; ) {
            long t = System.nanoTime();
            store.insert(from, Math.min(batch, n - from));
            calls.recordValue(System.nanoTime() - t);
          }
          return null;
        }));
      }
      for (Future<?> f : done) f.get();
    } finally {
      pool.shutdownNow();
    }
    return System.nanoTime() - start;
  }

  /**
   * Claims and completes {@code n} tasks: this thread claims while at most {@code slots} are in flight,
   * two others complete each claimed chunk. Returns the elapsed nanos. While {@code inserting} (the
   * mixed form: runs are still being written) a claim that finds nothing ready waits and tries again.
   */
  private static <T> long drain(Shape<T> store, int n, int slots, Recorder claims, Recorder completes,
                                AtomicLong statements, java.util.function.BooleanSupplier inserting) throws Exception {
    Semaphore room = new Semaphore(slots);
    BlockingQueue<List<T>> claimed = new ArrayBlockingQueue<>(slots);
    AtomicInteger completed = new AtomicInteger();
    ExecutorService completer = Executors.newFixedThreadPool(COMPLETERS);
    long start = System.nanoTime();
    try {
      List<Future<?>> completions = new ArrayList<>();
      for (int c = 0; c < COMPLETERS; c++) {
        completions.add(completer.submit(() -> {
          while (completed.get() < n) {
            List<T> b = claimed.poll(100, TimeUnit.MILLISECONDS);
            if (b == null) continue;
            int k = b.size();
            long t = System.nanoTime();
            int counted = store.complete(b);
            completes.recordValue(System.nanoTime() - t);
            if (counted != k) throw new IllegalStateException(k + " completed, " + counted + " counted: the fence refused some");
            completed.addAndGet(k);
            room.release(k);
          }
          return null;
        }));
      }
      int taken = 0;
      while (taken < n) {
        for (Future<?> f : completions) if (f.isDone()) f.get(); // a failed completer ends the run with its error
        if (!room.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
        int want = 1 + Math.min(CLAIM_BATCH - 1, room.drainPermits());
        // Read before the claim: if the inserts had all committed by then, an empty claim is a lost run.
        boolean more = inserting.getAsBoolean();
        long t = System.nanoTime();
        List<T> got = store.claim(want);
        claims.recordValue(System.nanoTime() - t);
        statements.incrementAndGet();
        room.release(want - got.size());
        if (got.isEmpty() && more) {
          java.util.concurrent.locks.LockSupport.parkNanos(200_000);
          continue;
        }
        if (got.isEmpty()) {
          throw new IllegalStateException("claimed " + taken + " of " + n + " tasks, then found none ready");
        }
        taken += got.size();
        // Completed in chunks, as a worker's reports arrive: the engine takes one statement for up to 64.
        for (int from = 0; from < got.size(); from += COMPLETE_CHUNK) {
          claimed.put(new ArrayList<>(got.subList(from, Math.min(got.size(), from + COMPLETE_CHUNK))));
        }
      }
      for (Future<?> f : completions) f.get();
    } finally {
      completer.shutdownNow();
    }
    return System.nanoTime() - start;
  }

  /** A version 7 UUID (time-ordered, as the engine gives its runs), so the primary key grows at its end. */
  private static UUID uuidV7() {
    long ms = System.currentTimeMillis();
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (ms << 16) | 0x7000L | (r.nextInt() & 0x0fffL);
    long lo = 0x8000000000000000L | (r.nextLong() & 0x3fffffffffffffffL);
    return new UUID(hi, lo);
  }
}
