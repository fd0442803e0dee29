package dev.drover.bench.chaos;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.StepInfo;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fault-injection harness: real processes (an embedded PostgreSQL in this JVM, 2-3 {@code drover
 * server} processes on it, several worker JVMs running {@link ChaosWorkflows}), a stream of runs,
 * and faults while the work flows: SIGKILL of random workers (repeatedly), SIGKILL and restart of
 * one server, a PostgreSQL stop/start, and {@code pg_terminate_backend} of server connections.
 * Then it waits for every accepted run to be final and checks the API against the ledger. With
 * {@link ChaosConfig.Scenario#ROLLING_RESTART} the faults are replaced by a rolling restart: every
 * server and every worker stopped gracefully (SIGTERM) and started again, one at a time.
 *
 * <p>Besides the runs it pushes, the ledger checks two flow-control promises: a 1-second cron
 * ({@link ChaosWorkflows.Ticker}) fired every tick exactly once, and a workflow limited to 2 running
 * runs per key ({@link ChaosWorkflows.Limited}) never had more executing at once, and a workflow rate
 * limited to 20 per second per key ({@link ChaosWorkflows.Rated}) was never granted more in one window
 * ({@link LedgerChecks#rates} explains why grants are counted, not start times). It also measures
 * the engine's tables (rows and bytes) before and after.
 *
 * <pre>{@code
 * try (ChaosHarness h = new ChaosHarness(ChaosConfig.defaults(jar, dir).withRuns(20_000))) {
 *   ChaosResult r = h.run();
 *   System.out.println(r.summaryLine());
 * }
 * }</pre>
 */
public final class ChaosHarness implements AutoCloseable {
  private static final String TOKEN = "chaos-token-" + UUID.randomUUID();
  private static final int BATCH = 100;
  private static final long MAX_BACKLOG = 2_000;
  /** Window of {@link ChaosWorkflows#RATE_LIMIT}. */
  private static final Duration RATE_WINDOW = Duration.ofSeconds(1);
  /** Concurrency keys of the limited workflow's runs. */
  private static final int LIMITED_KEYS = 8;
  /**
   * The server's missed-tick threshold ({@code Scheduler.MISSED_AFTER}): a tick found more than this
   * late was missed, and the {@code fire_once} policy fires one run for the latest missed tick.
   */
  static final Duration MISSED_AFTER = Duration.ofSeconds(5);
  /** The period of {@link ChaosWorkflows#CRON_EXPRESSION}. */
  static final Duration CRON_PERIOD = Duration.ofSeconds(1);
  /** Ledger steps that end a run (the flaky step ends it on its second attempt). */
  private static final String TERMINAL_ROWS =
      "(step IN ('only', 'join', 'limited', 'rated') OR (step = 'flaky' AND attempt > 1))";

  private final ChaosConfig cfg;
  private final Path workDir;
  private final Path logs;
  private final int pgPort;
  private final List<ServerProc> servers = new ArrayList<>();
  private final List<Managed> workers = new ArrayList<>();
  private final List<DroverClient> clients = new ArrayList<>();
  private volatile EmbeddedPostgresLauncher pg;
  private final Object pgLock = new Object();

  /** key -> run id of every accepted run. */
  private final Map<String, String> accepted = new ConcurrentHashMap<>();
  /** key -> workflow of every accepted run. */
  private final Map<String, String> workflowOf = new ConcurrentHashMap<>();
  private final AtomicLong finishedEstimate = new AtomicLong();
  private final AtomicInteger workerKills = new AtomicInteger();
  private final AtomicInteger serverKills = new AtomicInteger();
  private final AtomicInteger pgRestarts = new AtomicInteger();
  private final AtomicInteger connectionKills = new AtomicInteger();
  private final AtomicInteger gracefulRestarts = new AtomicInteger();
  private final AtomicInteger forcedStops = new AtomicInteger();
  private final AtomicBoolean pushing = new AtomicBoolean(true);
  /** Set by the rolling restart when its last process is back: the push stops. */
  private final AtomicBoolean stopPush = new AtomicBoolean();
  /** Why the fault or restart loop gave up (null: it did not), reported first among the problems. */
  private volatile String faultFailure;
  /** Cron runs seen in the database (id -> tick, creation, status), kept across pruning. */
  private final Map<String, CronRun> cronRuns = new ConcurrentHashMap<>();
  /** With a retention: the final state of every finished run seen before it could be pruned. */
  private final Map<String, Seen> finishedSeen = new ConcurrentHashMap<>();
  private volatile List<TableSize> tablesBefore = List.of();
  private volatile List<TableSize> tablesPeak = List.of();
  private volatile double progress;
  private volatile long pushStart;
  private volatile long lastLedgerProgress = System.nanoTime();
  private final Thread shutdownHook = new Thread(this::killEverything, "chaos-cleanup");

  /** A run of the cron workflow as the database showed it. */
  private record CronRun(String id, Instant tick, Instant createdAt, String status) {}

  /** A finished run and its steps' attempt counts, read before the retention could prune it. */
  private record Seen(String status, Map<String, Integer> attempts) {}

  /** A child process we can kill and start again with the same command. */
  private final class Managed {
    final String name;
    final List<String> command;
    final Map<String, String> env;
    volatile Process process;

    Managed(String name, List<String> command, Map<String, String> env) {
      this.name = name;
      this.command = command;
      this.env = env;
    }

    void start() throws IOException {
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().putAll(env);
      Path logFile = logs.resolve(name + ".log");
      pb.redirectErrorStream(true);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      process = pb.start();
    }

    void kill() throws InterruptedException {
      Process p = process;
      if (p == null) return;
      p.destroyForcibly(); // SIGKILL on Linux
      p.waitFor();
    }

    /** SIGTERM and wait; false (and SIGKILL) when it did not exit within {@code timeout}. */
    boolean stop(Duration timeout) throws InterruptedException {
      Process p = process;
      if (p == null) return true;
      p.destroy(); // SIGTERM on Linux
      if (p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) return true;
      p.destroyForcibly();
      p.waitFor();
      return false;
    }
  }

  private final class ServerProc {
    final Managed proc;
    final int http;
    final int grpc;

    ServerProc(Managed proc, int http, int grpc) {
      this.proc = proc;
      this.http = http;
      this.grpc = grpc;
    }

    String address() {
      return "127.0.0.1:" + grpc;
    }
  }

  /** @param cfg settings */
  public ChaosHarness(ChaosConfig cfg) throws IOException {
    if (cfg.servers() < 1 || cfg.workers() < 1) throw new IllegalArgumentException("need a server and a worker");
    if (!Files.isRegularFile(cfg.droverJar())) throw new IllegalArgumentException("no drover.jar at " + cfg.droverJar());
    this.cfg = cfg;
    this.workDir = cfg.workDir().toAbsolutePath();
    this.logs = workDir.resolve("logs");
    Files.createDirectories(logs);
    this.pgPort = freePort();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  private void log(String s) {
    if (cfg.log() != null) cfg.log().accept("[chaos " + java.time.LocalTime.now().withNano(0) + "] " + s);
  }

  /** Runs the whole scenario and returns what it found; processes stay until {@link #close()}. */
  public ChaosResult run() throws Exception {
    long t0 = System.nanoTime();
    startPostgres();
    String java = ProcessHandle.current().info().command().orElse("java");
    String jar = cfg.droverJar().toAbsolutePath().toString();
    for (int i = 0; i < cfg.servers(); i++) {
      int http = freePort();
      int grpc = freePort();
      Map<String, String> env = new HashMap<>();
      env.put("DROVER_DATABASE_URL", "postgresql://postgres@127.0.0.1:" + pgPort + "/postgres");
      env.put("DROVER_HTTP_PORT", String.valueOf(http));
      env.put("DROVER_GRPC_PORT", String.valueOf(grpc));
      env.put("DROVER_DATA_DIR", workDir.resolve("server-" + (i + 1)).toString());
      env.put("DROVER_TOKEN", TOKEN);
      env.put("DROVER_LEASE_TIMEOUT", "3s");
      env.put("DROVER_BIND_ADDRESS", "127.0.0.1");
      env.put("DROVER_DB_POOL_SIZE", "16");
      if (cfg.retention() != null) env.put("DROVER_RETENTION", cfg.retention().toMillis() + "ms");
      ServerProc s = new ServerProc(new Managed("server-" + (i + 1),
          List.of(java, "-Xmx768m", "-XX:+UseSerialGC", "-jar", jar, "server"), env), http, grpc);
      servers.add(s);
      s.proc.start();
      // The first one creates the schema; the others start once it is ready.
      if (i == 0) {
        awaitReady(s, Duration.ofSeconds(120));
        // After the schema exists: Flyway treats a non-empty schema as one to baseline, not migrate.
        try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement()) {
          st.execute(Ledger.DDL);
        }
      }
    }
    for (ServerProc s : servers) awaitReady(s, Duration.ofSeconds(120));
    log("PostgreSQL on port " + pgPort + ", " + servers.size() + " servers ready"
        + (cfg.retention() != null ? " (retention " + cfg.retention() + ")" : ""));
    tablesBefore = tableSizes();
    tablesPeak = tablesBefore;
    log("tables before: " + ChaosResult.describe(tablesBefore));
    for (int i = 0; i < servers.size(); i++) {
      clients.add(DroverClient.builder().addresses(rotated(i)).token(TOKEN).callTimeout(Duration.ofSeconds(10)).build());
    }
    clients.get(0).putRateLimit(ChaosWorkflows.RATE_LIMIT, ChaosWorkflows.RATE, RATE_WINDOW);
    for (int i = 0; i < cfg.workers(); i++) {
      Map<String, String> env = new HashMap<>();
      List<String> addrs = rotated(i % servers.size());
      env.put("DROVER_CHAOS_ADDRESSES", String.join(",", cfg.workerFailover() ? addrs : addrs.subList(0, 1)));
      env.put("DROVER_TOKEN", TOKEN);
      env.put("DROVER_CHAOS_JDBC", jdbcUrl());
      env.put("DROVER_CHAOS_WORKER", "worker-" + (i + 1));
      env.put("DROVER_CHAOS_SLOTS", String.valueOf(cfg.workerSlots()));
      Managed w = new Managed("worker-" + (i + 1),
          List.of(java, "-Xmx384m", "-XX:+UseSerialGC", "-cp", jar, ChaosWorkerMain.class.getName()), env);
      workers.add(w);
      w.start();
    }
    boolean rolling = cfg.scenario() == ChaosConfig.Scenario.ROLLING_RESTART;
    log(workers.size() + " workers started; pushing " + (rolling ? "until every process was restarted"
        : cfg.soak() != null ? "for " + cfg.soak() : cfg.runs() + " runs")
        + (cfg.pushRate() > 0 ? " at " + cfg.pushRate() + " runs/s" : ""));

    Thread monitor = Thread.ofPlatform().daemon().name("chaos-monitor").start(this::monitorLoop);
    pushStart = System.nanoTime();
    Thread faults = Thread.ofPlatform().daemon().name("chaos-faults").start(rolling ? this::rollingLoop : this::faultLoop);
    push(t0);
    pushing.set(false);
    progress = 1.0;
    faults.join();
    log("faults stopped; " + accepted.size() + " runs accepted; waiting for them to finish");
    ChaosResult r = verify(t0);
    monitor.interrupt();
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // Work

  private List<String> rotated(int start) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) out.add(servers.get((start + i) % servers.size()).address());
    return out;
  }

  private void push(long t0) throws InterruptedException {
    int producers = 2;
    AtomicLong next = new AtomicLong();
    boolean openEnded = cfg.soak() != null || cfg.scenario() == ChaosConfig.Scenario.ROLLING_RESTART;
    long soakNanos = cfg.soak() == null ? 0 : cfg.soak().toNanos();
    int batchSize = cfg.pushRate() > 0 ? Math.max(1, Math.min(BATCH, cfg.pushRate() / 5)) : BATCH;
    // In a rolling restart steps work 50 ms, so every worker stopped has steps in flight to drain.
    int workMs = cfg.scenario() == ChaosConfig.Scenario.ROLLING_RESTART ? 50 : 0;
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      threads.add(Thread.ofPlatform().daemon().name("chaos-push-" + p).start(() -> {
        int round = 0;
        while (true) {
          if (stopPush.get()) return;
          if (soakNanos > 0) {
            if (System.nanoTime() - t0 > soakNanos) return;
          }
          if (cfg.pushRate() > 0) {
            // Paced: run number n is pushed no earlier than n / rate seconds after the push began.
            long dueNanos = next.get() * 1_000_000_000L / cfg.pushRate();
            long ahead = dueNanos - (System.nanoTime() - pushStart);
            if (ahead > 0) {
              sleep(Math.max(1, ahead / 1_000_000));
              continue;
            }
          }
          // Keep a bounded backlog so the faults happen while work flows, not after it.
          // Bounded: when the ledger shows no progress for 20 s, push on (a stalled engine must not stall the push).
          while (accepted.size() - finishedEstimate.get() > MAX_BACKLOG
              && System.nanoTime() - lastLedgerProgress < 20_000_000_000L) sleep(100);
          boolean single = (round++ % 5) == 4; // one call in five triggers one run, the rest a batch
          int n = single ? 1 : batchSize;
          long first = next.getAndAdd(n);
          if (!openEnded) {
            if (first >= cfg.runs()) return;
            n = (int) Math.min(n, cfg.runs() - first);
          }
          List<RunRequest> batch = new ArrayList<>(n);
          List<String> keys = new ArrayList<>(n);
          for (long k = first; k < first + n; k++) {
            String key = "chaos-" + k;
            // One run in ten is concurrency-limited (8 keys, 2 running per key), one in twenty rate
            // limited (20/s per key; 3 of 4 on key r0, so that key's limit binds whenever work piles up,
            // as after an outage, without slowing the whole test down); the rest single, DAG, flaky.
            String wf = k % 10 == 9 ? ChaosWorkflows.LIMITED : k % 20 == 6 ? ChaosWorkflows.RATED : switch ((int) (k % 3)) {
              case 0 -> ChaosWorkflows.SINGLE;
              case 1 -> ChaosWorkflows.DAG;
              default -> ChaosWorkflows.FLAKY;
            };
            keys.add(key);
            workflowOf.put(key, wf);
            Object input = wf.equals(ChaosWorkflows.LIMITED)
                ? new ChaosWorkflows.LimitedInput(key, "k" + (k / 10) % LIMITED_KEYS)
                : wf.equals(ChaosWorkflows.RATED) ? new ChaosWorkflows.LimitedInput(key, (k / 20) % 4 == 3 ? "r1" : "r0")
                : new ChaosInput(key, true, workMs);
            batch.add(RunRequest.of(wf, input, RunOptions.defaults().withIdempotencyKey(key)));
          }
          trigger(id + (int) (first / BATCH), batch, keys);
          if (!openEnded) progress = Math.max(progress, (double) accepted.size() / cfg.runs());
        }
      }));
    }
    for (Thread t : threads) t.join();
  }

  /** Triggers with retries (idempotency keys make a repeat safe), moving to the next server on failure. */
  private void trigger(int spread, List<RunRequest> batch, List<String> keys) {
    long backoff = 100;
    int attempt = 0;
    while (true) {
      DroverClient c = clients.get(Math.floorMod(spread + attempt, clients.size()));
      attempt++;
      try {
        if (batch.size() == 1) {
          RunRequest r = batch.get(0);
          RunHandle h = c.run(r.workflowName(), r.input(), r.options());
          accepted.put(keys.get(0), h.runId());
        } else {
          List<RunHandle> hs = c.runMany(batch);
          for (int i = 0; i < hs.size(); i++) accepted.put(keys.get(i), hs.get(i).runId());
        }
        return;
      } catch (RuntimeException e) {
        if (attempt >= 300) {
          log("giving up on " + keys.size() + " runs after " + attempt + " trigger attempts: " + e);
          return;
        }
        if (attempt % 10 == 1) log("trigger failed (attempt " + attempt + ", retrying): " + e.getMessage());
        sleep(backoff);
        backoff = Math.min(2000, backoff * 2);
      }
    }
  }

  /**
   * Estimates finished runs from the ledger (for the backlog bound and progress lines only: rows of
   * steps that end a run, so a duplicate execution counts twice), snapshots the cron's runs, and
   * with a retention records finished runs before they can be pruned.
   *
   * <p>The count is incremental: rows up to a sequence number seen at least 5 s ago are counted once
   * (an insert commits within milliseconds of taking its number), newer ones at every pass.
   */
  private void monitorLoop() {
    long lastLine = 0, lastCron = 0, lastSeen = 0, lastTables = System.nanoTime();
    long base = 0, baseCount = 0;
    ArrayDeque<long[]> seqs = new ArrayDeque<>(); // (nanoTime, max seq) of earlier passes
    Instant seenSince = Instant.EPOCH;
    while (!Thread.currentThread().isInterrupted()) {
      try (Connection c = DriverManager.getConnection(jdbcUrl())) {
        long newBase = base;
        while (!seqs.isEmpty() && System.nanoTime() - seqs.peekFirst()[0] > 5_000_000_000L) {
          newBase = Math.max(newBase, seqs.pollFirst()[1]);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE seq <= ?), count(*),"
            + " coalesce(max(seq), 0) FROM chaos_ledger WHERE seq > ? AND " + TERMINAL_ROWS)) {
          ps.setLong(1, newBase);
          ps.setLong(2, base);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            long estimate = baseCount + rs.getLong(2);
            if (finishedEstimate.getAndSet(estimate) != estimate) lastLedgerProgress = System.nanoTime();
            baseCount += rs.getLong(1);
            base = newBase;
            seqs.addLast(new long[] {System.nanoTime(), Math.max(base, rs.getLong(3))});
          }
        }
        if (System.nanoTime() - lastCron > 2_000_000_000L) {
          lastCron = System.nanoTime();
          snapshotCronRuns(c);
        }
        if (cfg.retention() != null && System.nanoTime() - lastSeen > 30_000_000_000L) {
          lastSeen = System.nanoTime();
          seenSince = recordFinished(c, seenSince);
        }
      } catch (SQLException e) {
        // PostgreSQL restarting: try again
      }
      if (System.nanoTime() - lastLine > 10_000_000_000L) {
        lastLine = System.nanoTime();
        log("accepted=" + accepted.size() + " finished~" + finishedEstimate.get() + " worker_kills=" + workerKills
            + " server_kills=" + serverKills + " pg_restarts=" + pgRestarts + " connection_kills=" + connectionKills
            + " graceful_restarts=" + gracefulRestarts + " cron_runs=" + cronRuns.size());
      }
      if (cfg.soak() != null && System.nanoTime() - lastTables > 60_000_000_000L) {
        lastTables = System.nanoTime();
        List<TableSize> now = tableSizes();
        if (!now.isEmpty()) {
          tablesPeak = peak(tablesPeak, now);
          log("tables: " + ChaosResult.describe(now));
        }
      }
      if (!sleep(500)) return;
    }
  }

  /** Reads every run of the cron workflow (a few per second of the test) into {@link #cronRuns}. */
  private void snapshotCronRuns(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT id::text, metadata->>'drover.tick', created_at, status"
        + " FROM drover_run WHERE workflow_name = ?")) {
      ps.setString(1, ChaosWorkflows.CRON);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String tick = rs.getString(2);
          cronRuns.put(rs.getString(1), new CronRun(rs.getString(1), tick == null ? null : Instant.parse(tick),
              rs.getTimestamp(3).toInstant(), rs.getString(4)));
        }
      }
    }
  }

  /**
   * Records the runs finished since {@code since} (minus a margin for transactions that commit after
   * their {@code now()}) with their steps' attempts; returns the new watermark.
   */
  private Instant recordFinished(Connection c, Instant since) throws SQLException {
    Instant max = since;
    try (PreparedStatement ps = c.prepareStatement("SELECT r.id::text, r.status, r.finished_at, s.step_name, s.attempts"
        + " FROM drover_run r JOIN drover_step_run s ON s.run_id = r.id"
        + " WHERE r.finished_at IS NOT NULL AND r.finished_at > ?")) {
      ps.setTimestamp(1, Timestamp.from(since.minusSeconds(15)));
      try (ResultSet rs = ps.executeQuery()) {
        Map<String, Seen> batch = new HashMap<>();
        while (rs.next()) {
          Seen seen = batch.computeIfAbsent(rs.getString(1), k -> new Seen(null, new HashMap<>()));
          if (seen.status() == null) {
            seen = new Seen(rs.getString(2), seen.attempts());
            batch.put(rs.getString(1), seen);
          }
          seen.attempts().put(rs.getString(4), rs.getInt(5));
          Instant f = rs.getTimestamp(3).toInstant();
          if (f.isAfter(max)) max = f;
        }
        finishedSeen.putAll(batch);
      }
    }
    return max;
  }

  /** Rows and bytes of the hot and history tables; empty when the database cannot be reached. */
  private List<TableSize> tableSizes() {
    List<TableSize> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement()) {
      for (String t : concat(TableSize.HOT, TableSize.HISTORY)) {
        try (ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM " + t + "), pg_total_relation_size('" + t + "')")) {
          rs.next();
          out.add(new TableSize(t, rs.getLong(1), rs.getLong(2)));
        }
      }
    } catch (SQLException e) {
      log("could not measure the tables: " + e.getMessage());
      return List.of();
    }
    return out;
  }

  private static List<TableSize> peak(List<TableSize> a, List<TableSize> b) {
    if (a.isEmpty()) return b;
    if (b.isEmpty()) return a;
    List<TableSize> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      out.add(new TableSize(a.get(i).table(), Math.max(a.get(i).rows(), b.get(i).rows()),
          Math.max(a.get(i).bytes(), b.get(i).bytes())));
    }
    return out;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Faults

  private void faultLoop() {
    // Milestones as fractions of the push; worker kills every few seconds throughout.
    double serverKillAt = 0.25;
    double pgRestartAt = 0.55;
    double[] connKillsAt = {0.15, 0.40, 0.70, 0.85};
    boolean serverDone = false;
    boolean pgDone = false;
    int connDone = 0;
    long nextWorkerKill = System.nanoTime() + 3_000_000_000L;
    try {
      while (true) {
        double p = cfg.soak() == null ? progress
            : Math.max(progress, (double) (System.nanoTime() - pushStart) / cfg.soak().toNanos());
        if (!serverDone && p >= serverKillAt) {
          serverDone = true;
          killAndRestartServer();
        } else if (!pgDone && p >= pgRestartAt) {
          pgDone = true;
          restartPostgres();
        } else if (connDone < connKillsAt.length && p >= connKillsAt[connDone]) {
          connDone++;
          terminateConnections();
        } else if (System.nanoTime() >= nextWorkerKill) {
          killAndRestartWorker();
          nextWorkerKill = System.nanoTime() + ThreadLocalRandom.current().nextLong(2_000_000_000L, 5_000_000_000L);
        }
        if (!pushing.get() && serverDone && pgDone && connDone == connKillsAt.length) break;
        sleep(200);
      }
      for (Managed w : workers) {
        if (!w.process.isAlive()) w.start();
      }
    } catch (Exception e) {
      failed("fault injection", e);
      throw new IllegalStateException(e);
    }
  }

  /**
   * The rolling restart: after some steady load, every server and then every worker is stopped with
   * SIGTERM (the graceful path: a server hands its streams over, a worker drains its steps) and
   * started again, each one back before the next goes; the push stops a few seconds after the last.
   */
  private void rollingLoop() {
    try {
      for (Managed w : workers) awaitRegistered(w, Instant.EPOCH, Duration.ofSeconds(120));
      log("every worker registered; restarts begin in 5 s");
      sleep(5_000);
      for (ServerProc s : servers) {
        log("SIGTERM " + s.proc.name + " (" + runningSteps(null) + " steps running in all)");
        long t = System.nanoTime();
        if (!s.proc.stop(Duration.ofSeconds(60))) {
          forcedStops.incrementAndGet();
          log(s.proc.name + " did not stop within 60 s of SIGTERM: killed");
        }
        log(s.proc.name + " stopped in " + (System.nanoTime() - t) / 1_000_000 + " ms; starting it again");
        s.proc.start();
        awaitReady(s, Duration.ofSeconds(120));
        gracefulRestarts.incrementAndGet();
        log(s.proc.name + " ready again");
        sleep(1_000);
      }
      for (Managed w : workers) {
        Instant before = dbNow();
        log("SIGTERM " + w.name + " (" + runningSteps(w.name) + " steps running on it)");
        long t = System.nanoTime();
        if (!w.stop(Duration.ofSeconds(45))) {
          forcedStops.incrementAndGet();
          log(w.name + " did not stop within 45 s of SIGTERM: killed");
        }
        log(w.name + " stopped in " + (System.nanoTime() - t) / 1_000_000 + " ms; starting it again");
        w.start();
        awaitRegistered(w, before, Duration.ofSeconds(60));
        gracefulRestarts.incrementAndGet();
        log(w.name + " registered again");
        sleep(1_000);
      }
      sleep(3_000);
    } catch (Exception e) {
      failed("rolling restart", e);
      throw new IllegalStateException(e);
    } finally {
      stopPush.set(true);
    }
  }

  /**
   * Records why a fault loop stopped, with the end of the log of every process that is not alive,
   * so a failed CI run says what happened without the work directory.
   */
  private void failed(String what, Exception e) {
    StringBuilder b = new StringBuilder(what + " failed: " + e);
    List<Managed> all = new ArrayList<>();
    for (ServerProc sp : servers) all.add(sp.proc);
    all.addAll(workers);
    for (Managed m : all) {
      if (m.process != null && m.process.isAlive()) continue;
      b.append("\n--- last lines of ").append(m.name).append(".log (exited ")
          .append(m.process == null ? "before it started" : String.valueOf(m.process.exitValue())).append(") ---");
      try {
        List<String> lines = Files.readAllLines(logs.resolve(m.name + ".log"));
        for (String l : lines.subList(Math.max(0, lines.size() - 25), lines.size())) b.append('\n').append(l);
      } catch (IOException | RuntimeException unreadable) {
        b.append("\n(unreadable: ").append(unreadable).append(')');
      }
    }
    faultFailure = b.toString();
    log(faultFailure);
  }

  /** Steps leased to workers named {@code name} (null: to any worker), or -1 when the query fails. */
  private long runningSteps(String name) {
    // Only for the log line: a failed count must not end the restarts.
    try (Connection c = DriverManager.getConnection(jdbcUrl());
         PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM drover_task t JOIN drover_worker w"
             + " ON w.id = t.worker_id WHERE t.state = 'leased' AND (w.name = ? OR ?::text IS NULL)")) {
      ps.setString(1, name);
      ps.setString(2, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      log("could not count running steps: " + e);
      return -1;
    }
  }

  private Instant dbNow() throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT now()")) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  /** Waits until a worker named like {@code w} registered with a server after {@code since}. */
  private void awaitRegistered(Managed w, Instant since, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!w.process.isAlive()) throw new IllegalStateException(w.name + " exited with " + w.process.exitValue());
      try (Connection c = DriverManager.getConnection(jdbcUrl());
           PreparedStatement ps = c.prepareStatement(
               "SELECT 1 FROM drover_worker WHERE name = ? AND registered_at > ? LIMIT 1")) {
        ps.setString(1, w.name);
        ps.setTimestamp(2, Timestamp.from(since));
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) return;
        }
      }
      sleep(200);
    }
    throw new IllegalStateException(w.name + " did not register within " + timeout);
  }

  private void killAndRestartWorker() throws Exception {
    Managed w = workers.get(ThreadLocalRandom.current().nextInt(workers.size()));
    w.kill();
    workerKills.incrementAndGet();
    sleep(ThreadLocalRandom.current().nextLong(200, 1500));
    w.start();
  }

  private void killAndRestartServer() throws Exception {
    ServerProc s = servers.get(ThreadLocalRandom.current().nextInt(servers.size()));
    log("SIGKILL " + s.proc.name);
    s.proc.kill();
    serverKills.incrementAndGet();
    sleep(3000);
    s.proc.start();
    awaitReady(s, Duration.ofSeconds(120));
    log(s.proc.name + " restarted and ready");
  }

  private void restartPostgres() throws Exception {
    log("stopping PostgreSQL");
    synchronized (pgLock) {
      pg.close();
    }
    pgRestarts.incrementAndGet();
    sleep(2000);
    startPostgres();
    log("PostgreSQL started again");
  }

  private void terminateConnections() {
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             + " WHERE application_name = 'drover-server' ORDER BY random() LIMIT 2")) {
      int n = 0;
      while (rs.next()) if (rs.getBoolean(1)) n++;
      connectionKills.addAndGet(n);
      log("terminated " + n + " server connections");
    } catch (SQLException e) {
      log("pg_terminate_backend failed: " + e.getMessage());
    }
  }

  // ------------------------------------------------------------------------------------------
  // Verification

  private ChaosResult verify(long t0) throws Exception {
    long deadline = System.nanoTime() + cfg.settleTimeout().toNanos();
    // No more ticks from here on, so the set of cron runs to check is fixed.
    pauseCron();
    while (finishedEstimate.get() < accepted.size() && System.nanoTime() < deadline) sleep(500);
    log("ledger shows ~" + finishedEstimate.get() + " of " + accepted.size() + " finished; checking every run via the API");

    // The ledger: executions per (run, step) and distinct attempts; cron ticks; the limited step's spans.
    Map<String, Map<String, List<Integer>>> ledger = new HashMap<>();
    Map<Instant, Set<String>> ledgerTicks = new HashMap<>();
    List<LedgerChecks.Span> spans = new ArrayList<>();
    List<LedgerChecks.Grant> grants = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement()) {
      st.setFetchSize(10_000);
      c.setAutoCommit(false);
      try (ResultSet rs = st.executeQuery("SELECT run_id, step, attempt, tag, at, exited_at FROM chaos_ledger")) {
        while (rs.next()) {
          String run = rs.getString(1);
          String step = rs.getString(2);
          ledger.computeIfAbsent(run, k -> new HashMap<>()).computeIfAbsent(step, k -> new ArrayList<>()).add(rs.getInt(3));
          if (step.equals("tick") && rs.getString(4) != null) {
            ledgerTicks.computeIfAbsent(Instant.parse(rs.getString(4)), k -> new HashSet<>()).add(run);
          } else if (step.equals("limited")) {
            Timestamp exited = rs.getTimestamp(6);
            spans.add(new LedgerChecks.Span(run, rs.getInt(3), rs.getString(4), rs.getTimestamp(5).toInstant(),
                exited == null ? null : exited.toInstant()));
          } else if (step.equals("rated")) {
            grants.add(grant(run, rs.getInt(3), rs.getString(4), rs.getTimestamp(5).toInstant()));
          }
        }
      }
      c.commit();
    }

    // The API: every accepted run, in parallel; non-final ones are awaited until the deadline.
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<RunInfo>> futures = new ArrayList<>();
    List<String> keys = new ArrayList<>(accepted.keySet());
    AtomicInteger idx = new AtomicInteger();
    for (String key : keys) {
      String id = accepted.get(key);
      DroverClient c = clients.get(idx.getAndIncrement() % clients.size());
      futures.add(pool.submit(() -> fetch(c, id, deadline)));
    }
    long completed = 0, lost = 0, stuck = 0, duplicates = 0, reexecutions = 0, pruned = 0;
    List<String> problems = new ArrayList<>();
    if (faultFailure != null) problems.add(faultFailure);
    List<String> stuckIds = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      String id = accepted.get(key);
      RunInfo info = futures.get(i).get();
      Map<String, List<Integer>> exec = ledger.getOrDefault(id, Map.of());
      String workflow = workflowOf.get(key);
      Map<String, Integer> recorded = new HashMap<>();
      if (info == null) {
        // Pruned after the retention: judged by what the database showed when it finished.
        Seen seen = finishedSeen.get(id);
        if (seen == null) {
          lost++;
          note(problems, "run " + id + " (" + key + ") not found; ledger " + exec);
          continue;
        }
        pruned++;
        if ("succeeded".equals(seen.status())) {
          completed++;
        } else {
          lost++;
          note(problems, "run " + id + " (" + key + ", " + workflow + ") ended " + seen.status() + " (pruned since);"
              + " ledger " + exec);
        }
        recorded.putAll(seen.attempts());
      } else {
        if (!info.status().isFinal()) {
          stuck++;
          if (stuckIds.size() < 5) stuckIds.add(id);
          note(problems, "run " + id + " (" + key + ", " + info.workflowName() + ") stuck in " + info.status()
              + "; steps " + describe(info) + "; ledger " + exec);
        } else if (info.status() == RunStatus.SUCCEEDED) {
          completed++;
        } else {
          lost++;
          note(problems, "run " + id + " (" + key + ", " + info.workflowName() + ") ended " + info.status() + ": "
              + info.error() + "; steps " + describe(info) + "; ledger " + exec);
        }
        for (StepInfo s : info.steps()) recorded.put(s.name(), s.attempts());
      }
      for (Map.Entry<String, Integer> s : recorded.entrySet()) {
        List<Integer> attempts = exec.getOrDefault(s.getKey(), List.of());
        // Executions explained by a distinct attempt the server recorded; the rest are duplicates.
        long explained = attempts.stream().filter(a -> a >= 1 && a <= s.getValue()).distinct().count();
        long dup = attempts.size() - explained;
        if (dup > 0) {
          duplicates += dup;
          note(problems, "run " + id + " step " + s.getKey() + ": " + attempts.size() + " executions " + attempts
              + " but the server recorded " + s.getValue() + " attempts");
        }
        int deliberate = ChaosWorkflows.FLAKY.equals(workflow) ? 1 : 0;
        reexecutions += Math.max(0, explained - 1 - deliberate);
      }
    }
    pool.shutdownNow();
    if (stuck > 0 || lost > 0) dumpDiagnostics(stuckIds);
    if (pruned > 0) log(pruned + " accepted runs were pruned after the retention; judged by their final state as last seen");
    logFailedAttempts();

    CronCheck cron = checkCron(deadline, ledgerTicks, problems);
    LedgerChecks.Concurrency conc = LedgerChecks.concurrency(spans, ChaosWorkflows.LIMIT, problems);
    LedgerChecks.Rates rates = LedgerChecks.rates(grants, ChaosWorkflows.RATE, RATE_WINDOW.toMillis(), problems);
    log("rate limit " + ChaosWorkflows.RATE + "/s per key: " + grants.size() + " executions, at most " + rates.max()
        + " units granted to a key in one window, " + rates.violations() + " windows over; for information: at most "
        + rates.startsMax() + " starts of a key in one wall-clock second, the latest start "
        + rates.lateMaxMs() + " ms after the end of its granted window");

    List<TableSize> after = tableSizes();
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    return new ChaosResult(accepted.size(), completed, lost, duplicates, stuck, reexecutions, workerKills.get(),
        serverKills.get(), pgRestarts.get(), connectionKills.get(), gracefulRestarts.get(), forcedStops.get(),
        cron.ticks(), cron.missing(), cron.doubled(), cron.collapsed(), cron.unfinished(), conc.max(),
        conc.staleOverlaps(), rates.max(), rates.violations(), rates.unverifiable(), rates.startsMax(), seconds, tablesBefore, peak(tablesPeak, after), after, List.copyOf(problems));
  }

  /** A rated step's ledger row: tag {@code <key>|<window start ms>|<units>}, or "?" without a grant. */
  private static LedgerChecks.Grant grant(String run, int attempt, String tag, Instant start) {
    String[] p = tag == null ? new String[0] : tag.split("\\|");
    if (p.length != 3) return new LedgerChecks.Grant(run, attempt, null, 0, 0, start);
    return new LedgerChecks.Grant(run, attempt, p[0], Long.parseLong(p[1]), Integer.parseInt(p[2]), start);
  }

  /** Logs the attempts that did not succeed, by status, error (ids masked) and worker, with when they ended. */
  private void logFailedAttempts() {
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT a.status, left(regexp_replace(coalesce(a.error, ''),"
             + " '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g'), 90), coalesce(w.name || ' ' || left(w.id::text, 8), '?'),"
             + " count(*), min(a.finished_at)::time(3), max(a.finished_at)::time(3)"
             + " FROM drover_step_attempt a LEFT JOIN drover_worker w ON w.id = a.worker_id"
             + " GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 12")) {
      while (rs.next()) {
        log("attempts " + rs.getString(1) + " x" + rs.getLong(4) + " on " + rs.getString(3) + " (" + rs.getString(5)
            + " - " + rs.getString(6) + "): " + rs.getString(2));
      }
    } catch (SQLException e) {
      log("could not read failed attempts: " + e.getMessage());
    }
  }

  /** Pauses the chaos cron (through the API, retried): no tick after this one. */
  private void pauseCron() {
    for (int attempt = 1; attempt <= 20; attempt++) {
      try {
        for (var cron : clients.get(attempt % clients.size()).listCrons(ChaosWorkflows.CRON)) {
          clients.get(attempt % clients.size()).pauseCron(cron.id());
        }
        return;
      } catch (RuntimeException e) {
        log("pausing the cron failed (attempt " + attempt + "): " + e.getMessage());
        sleep(500);
      }
    }
  }

  /** What the cron check found. */
  private record CronCheck(int ticks, int missing, int doubled, int collapsed, int unfinished) {}

  /**
   * The cron's runs (database snapshots, and the ledger for runs pruned since) checked by {@link
   * LedgerChecks#cronTicks}; every cron run must also end SUCCEEDED.
   */
  private CronCheck checkCron(long deadline, Map<Instant, Set<String>> ledgerTicks, List<String> problems) {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (Connection c = DriverManager.getConnection(jdbcUrl())) {
        snapshotCronRuns(c);
        break;
      } catch (SQLException e) {
        sleep(500);
      }
    }
    int unfinished = 0;
    for (CronRun r : new ArrayList<>(cronRuns.values())) {
      String status = r.status();
      if (!"succeeded".equals(status)) {
        RunInfo info = fetch(clients.get(0), r.id(), Math.max(deadline, System.nanoTime() + 30_000_000_000L));
        Seen seen = finishedSeen.get(r.id());
        status = info != null ? info.status().name().toLowerCase(java.util.Locale.ROOT)
            : seen != null ? seen.status() : "pruned";
        // Pruned without being seen finished: it was finished (only finished runs are pruned).
        if (!"succeeded".equals(status) && !"pruned".equals(status)) {
          unfinished++;
          note(problems, "cron run " + r.id() + " (tick " + r.tick() + ") ended " + status);
        }
      }
    }
    Map<Instant, Set<String>> byTick = new HashMap<>();
    Map<Instant, Instant> created = new HashMap<>();
    for (CronRun r : cronRuns.values()) {
      if (r.tick() == null) continue;
      byTick.computeIfAbsent(r.tick(), k -> new LinkedHashSet<>()).add(r.id());
      created.merge(r.tick(), r.createdAt(), (a, b) -> a.isBefore(b) ? a : b);
    }
    ledgerTicks.forEach((tick, runs) -> byTick.computeIfAbsent(tick, k -> new LinkedHashSet<>()).addAll(runs));
    LedgerChecks.Ticks t = LedgerChecks.cronTicks(byTick, created, CRON_PERIOD, MISSED_AFTER, problems, this::log);
    return new CronCheck(t.ticks(), t.missing(), t.doubled(), t.collapsed(), unfinished);
  }

  /** Writes the engine's rows about stuck runs (and its workers and advisory locks) to diagnostics.txt. */
  private void dumpDiagnostics(List<String> runIds) {
    Path file = workDir.resolve("diagnostics.txt");
    StringBuilder b = new StringBuilder();
    List<String> queries = new ArrayList<>(List.of(
        "SELECT state, count(*) FROM drover_task GROUP BY state",
        "SELECT * FROM drover_worker",
        "SELECT locktype, objid, pid, granted FROM pg_locks WHERE locktype = 'advisory'",
        "SELECT pid, application_name, state, backend_start, query_start, left(query, 120) FROM pg_stat_activity"));
    for (String id : runIds) {
      queries.add("SELECT * FROM drover_task WHERE run_id::text = '" + id + "'");
      queries.add("SELECT * FROM drover_step_run WHERE run_id::text = '" + id + "'");
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement()) {
      for (String q : queries) {
        b.append("## ").append(q).append('\n');
        try (ResultSet rs = st.executeQuery(q)) {
          int n = rs.getMetaData().getColumnCount();
          for (int i = 1; i <= n; i++) b.append(i > 1 ? " | " : "").append(rs.getMetaData().getColumnName(i));
          b.append('\n');
          while (rs.next()) {
            for (int i = 1; i <= n; i++) b.append(i > 1 ? " | " : "").append(rs.getString(i));
            b.append('\n');
          }
        } catch (SQLException e) {
          b.append("failed: ").append(e.getMessage()).append('\n');
        }
      }
      Files.writeString(file, b.toString());
      log("engine state of stuck/lost runs written to " + file);
    } catch (SQLException | IOException e) {
      log("could not write diagnostics: " + e);
    }
  }

  private RunInfo fetch(DroverClient c, String id, long deadline) {
    int failures = 0;
    while (true) {
      try {
        RunInfo info = c.getRun(id);
        long leftMs = (deadline - System.nanoTime()) / 1_000_000;
        if (info.status().isFinal() || leftMs <= 0) return info;
        info = c.awaitRun(id, Duration.ofMillis(Math.min(leftMs, 30_000)));
        if (info.status().isFinal() || System.nanoTime() >= deadline) return info;
      } catch (DroverException e) {
        if (e.code() == DroverException.Code.NOT_FOUND) return null;
        if (++failures > 20) throw e;
        sleep(500);
      }
    }
  }

  private static String describe(RunInfo info) {
    StringBuilder b = new StringBuilder();
    for (StepInfo s : info.steps()) {
      b.append(s.name()).append('=').append(s.status()).append('/').append(s.attempts()).append(' ');
    }
    return b.toString().trim();
  }

  private static void note(List<String> problems, String s) {
    if (problems.size() < 20) problems.add(s);
  }

  // ------------------------------------------------------------------------------------------
  // Processes

  private void startPostgres() throws IOException {
    synchronized (pgLock) {
      pg = EmbeddedPostgresLauncher.start(workDir.resolve("postgres"), pgPort,
          Map.of("max_connections", "300", "fsync", "off", "synchronous_commit", "off"));
    }
  }

  private String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres?user=postgres&password=postgres&connectTimeout=5";
  }

  private void awaitReady(ServerProc s, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!s.proc.process.isAlive()) {
        throw new IllegalStateException(s.proc.name + " exited with " + s.proc.process.exitValue() + "; see "
            + logs.resolve(s.proc.name + ".log"));
      }
      try {
        HttpURLConnection h = (HttpURLConnection) URI.create("http://127.0.0.1:" + s.http + "/readyz").toURL()
            .openConnection();
        h.setConnectTimeout(1000);
        h.setReadTimeout(2000);
        if (h.getResponseCode() == 200) return;
      } catch (IOException notYet) {
        // starting
      }
      sleep(250);
    }
    throw new IllegalStateException(s.proc.name + " not ready within " + timeout);
  }

  /**
   * A free port below the kernel's ephemeral range, for a process that is restarted on the same
   * port. A port from that range ({@code new ServerSocket(0)}) can be taken while the process is
   * down: a client redialing it may be handed that very port as its local one and connect to itself
   * (TCP simultaneous open), and the restarted process then fails to bind.
   */
  private static int freePort() throws IOException {
    int low = 32768;
    try {
      low = Integer.parseInt(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
          .trim().split("\\s+")[0]);
    } catch (java.io.IOException | RuntimeException notLinux) {
      // keep the Linux default
    }
    int from = Math.max(1024, low / 2); // procfs files report size 0: readAllLines, not readString
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(from, Math.max(from + 1, low));
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException inUse) {
        // try another
      }
    }
    throw new IllegalStateException("no free port in " + from + ".." + low);
  }

  private static boolean sleep(long ms) {
    try {
      Thread.sleep(ms);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void killEverything() {
    for (DroverClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException ignored) {
        // best effort
      }
    }
    clients.clear();
    List<Managed> all = new ArrayList<>(workers);
    for (ServerProc s : servers) all.add(s.proc);
    for (Managed m : all) {
      Process p = m.process;
      if (p != null) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
    for (Managed m : all) {
      Process p = m.process;
      if (p != null) {
        try {
          p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    synchronized (pgLock) {
      if (pg != null) {
        try {
          pg.close();
        } catch (IOException | RuntimeException e) {
          // fall through to the pid file
        }
        pg = null;
      }
    }
    killOrphanPostmaster(workDir.resolve("postgres").resolve("pg"));
  }

  /** Kills a postmaster left behind in {@code pgData} (its pid is the first line of postmaster.pid). */
  public static void killOrphanPostmaster(Path pgData) {
    Path pidFile = pgData.resolve("postmaster.pid");
    try {
      if (!Files.exists(pidFile)) return;
      List<String> lines = Files.readAllLines(pidFile);
      if (lines.isEmpty()) return;
      long pid = Long.parseLong(lines.get(0).trim());
      ProcessHandle.of(pid).ifPresent(ph -> {
        if (ph.info().command().orElse("").contains("postgres")) {
          ph.descendants().forEach(ProcessHandle::destroyForcibly);
          ph.destroyForcibly();
        }
      });
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }

  /** Kills every process this harness started (SIGKILL) and stops PostgreSQL. */
  @Override
  public void close() {
    killEverything();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running
    }
  }
}
