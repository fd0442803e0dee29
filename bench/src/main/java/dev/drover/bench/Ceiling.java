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
 * pools, with no engine, gRPC or worker in between: {@code RunQueries.insertWithSteps} in batches of
 * 10,000 (as a {@code runMany} call writes them), then one thread claiming ({@code TaskQueries.claim},
 * up to 500 per statement, at most {@code --slots} in flight, as the dispatcher does for one worker)
 * while two others complete what was claimed with {@code TaskQueries.completeSingleSteps} (one
 * statement per 64, on the keyed pool, as the engine records a worker's small report batches). It is the most this schema and these statements give on the
 * machine: the gap to {@code burn-down} is the engine, the transport and the worker; the gap to a
 * target is the store's.
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
    Database db = h.target.server().database();
    int warmup = h.cfg.warmupOr(2000) == 0 ? 0 : Math.min(runs, 20_000);
    if (warmup > 0) {
      h.progress("warming up: " + warmup + " runs inserted, claimed and completed (unmeasured)");
      insert(db, warmup, batch, callers, new Recorder(3));
      drain(db, warmup, slots, new Recorder(3), new Recorder(3), new AtomicLong());
    }
    h.progress("inserting " + runs + " runs (insertWithSteps, batches of " + batch + ", " + callers + " caller(s))");
    Recorder inserts = new Recorder(3);
    long insertNanos = insert(db, runs, batch, callers, inserts);
    h.progress("draining: one thread claims (up to " + CLAIM_BATCH + " per statement, " + slots
        + " in flight), two complete (64 per statement)");
    Recorder claims = new Recorder(3);
    Recorder completes = new Recorder(3);
    AtomicLong claimStatements = new AtomicLong();
    long drainNanos = drain(db, runs, slots, claims, completes, claimStatements);

    ObjectNode p = Workload.params();
    p.put("slots", slots);
    p.put("batch_size", batch);
    p.put("concurrency", callers);
    p.put("claim_batch", CLAIM_BATCH);
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
    o.put("ceiling_note", "store statements only: insertWithSteps per batch in one transaction, claim (TaskQueries.claim) "
        + "on one thread, completeSingleSteps (keyed pool, 64 per statement) on two; no engine, gRPC or worker");
    return o;
  }

  /** Inserts {@code n} queued no-op runs with their step rows and tasks; returns the elapsed nanos. */
  private static long insert(Database db, int n, int batch, int callers, Recorder calls) throws Exception {
    RunQueries runQueries = new RunQueries();
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    long start = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        done.add(pool.submit(() -> {
          for (int from; (from = next.getAndAdd(batch)) < n; ) {
            int size = Math.min(batch, n - from);
            List<NewRun> rows = new ArrayList<>(size);
            List<NewStepRun> steps = new ArrayList<>(size);
            List<NewTask> tasks = new ArrayList<>(size);
            long t = System.nanoTime();
            for (int i = 0; i < size; i++) {
              UUID id = uuidV7();
              rows.add(new NewRun(id, TENANT, NoopWorkflow.NAME, "1", new BenchInput(0, from + i, t, 0).json(), "{}", 0,
                  null, 1, false, null, null, null, null));
              steps.add(new NewStepRun(id, STEP, "queued", 0, null));
              tasks.add(new NewTask(TENANT, id, STEP, NoopWorkflow.NAME, "1", 0, 3, 1, 0, 0, null));
            }
            // As the engine writes a runMany call: one transaction on the insert pool, the outcome read back.
            db.inInsertTx(tx -> {
              RunQueries.Triggered written = runQueries.insertWithSteps(tx, rows, steps, tasks, LEASE_MS);
              return runQueries.outcome(tx, rows, written.inserted());
            });
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
   * a second thread completes each claimed batch. Returns the elapsed nanos.
   */
  private static long drain(Database db, int n, int slots, Recorder claims, Recorder completes, AtomicLong statements)
      throws Exception {
    TaskQueries tasks = new TaskQueries();
    UUID worker = UUID.randomUUID();
    Semaphore room = new Semaphore(slots);
    BlockingQueue<List<Claimed>> claimed = new ArrayBlockingQueue<>(slots);
    AtomicInteger completed = new AtomicInteger();
    ExecutorService completer = Executors.newFixedThreadPool(COMPLETERS);
    long start = System.nanoTime();
    try {
      List<Future<?>> completions = new ArrayList<>();
      for (int c = 0; c < COMPLETERS; c++) {
        completions.add(completer.submit(() -> {
          while (completed.get() < n) {
            List<Claimed> b = claimed.poll(100, TimeUnit.MILLISECONDS);
            if (b == null) continue;
            int k = b.size();
            Long[] ids = new Long[k];
            Integer[] attempts = new Integer[k];
            String[] outputs = new String[k];
            for (int i = 0; i < k; i++) {
              ids[i] = b.get(i).task().id();
              attempts[i] = b.get(i).task().attempt();
              outputs[i] = "null";
            }
            long t = System.nanoTime();
            int counted = db.inOneKeyedStatement(tx -> tasks.completeSingleSteps(tx, worker, ids, attempts, outputs)).size();
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
        long t = System.nanoTime();
        List<Claimed> got = db.inTx(tx -> tasks.claim(tx, TENANT, ACTION, want, worker, "{}", LEASE_MS));
        claims.recordValue(System.nanoTime() - t);
        statements.incrementAndGet();
        room.release(want - got.size());
        if (got.isEmpty()) {
          throw new IllegalStateException("claimed " + taken + " of " + n + " tasks, then found none ready");
        }
        taken += got.size();
        // Completed in chunks, as a worker's reports arrive: the engine takes one statement for up to 64.
        for (int from = 0; from < got.size(); from += COMPLETE_CHUNK) {
          claimed.put(got.subList(from, Math.min(got.size(), from + COMPLETE_CHUNK)));
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
