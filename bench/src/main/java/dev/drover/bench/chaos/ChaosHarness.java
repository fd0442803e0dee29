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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Then it waits for every accepted run to be final and checks the API against the ledger.
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
  private final AtomicBoolean pushing = new AtomicBoolean(true);
  private volatile double progress;
  private volatile long pushStart;
  private volatile long lastLedgerProgress = System.nanoTime();
  private final Thread shutdownHook = new Thread(this::killEverything, "chaos-cleanup");

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
    log("PostgreSQL on port " + pgPort + ", " + servers.size() + " servers ready");
    for (int i = 0; i < servers.size(); i++) {
      clients.add(DroverClient.builder().addresses(rotated(i)).token(TOKEN).callTimeout(Duration.ofSeconds(10)).build());
    }
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
    log(workers.size() + " workers started; pushing " + (cfg.soak() != null ? "for " + cfg.soak() : cfg.runs() + " runs"));

    Thread monitor = Thread.ofPlatform().daemon().name("chaos-monitor").start(this::monitorLoop);
    pushStart = System.nanoTime();
    Thread faults = Thread.ofPlatform().daemon().name("chaos-faults").start(this::faultLoop);
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
    long soakNanos = cfg.soak() == null ? 0 : cfg.soak().toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      threads.add(Thread.ofPlatform().daemon().name("chaos-push-" + p).start(() -> {
        int round = 0;
        while (true) {
          if (soakNanos > 0) {
            if (System.nanoTime() - t0 > soakNanos) return;
          }
          // Keep a bounded backlog so the faults happen while work flows, not after it.
          // Bounded: when the ledger shows no progress for 20 s, push on (a stalled engine must not stall the push).
          while (accepted.size() - finishedEstimate.get() > MAX_BACKLOG
              && System.nanoTime() - lastLedgerProgress < 20_000_000_000L) sleep(100);
          boolean single = (round++ % 5) == 4; // one call in five triggers one run, the rest a batch
          int n = single ? 1 : BATCH;
          long first = next.getAndAdd(n);
          if (soakNanos == 0) {
            if (first >= cfg.runs()) return;
            n = (int) Math.min(n, cfg.runs() - first);
          }
          List<RunRequest> batch = new ArrayList<>(n);
          List<String> keys = new ArrayList<>(n);
          for (long k = first; k < first + n; k++) {
            String key = "chaos-" + k;
            String wf = switch ((int) (k % 3)) {
              case 0 -> ChaosWorkflows.SINGLE;
              case 1 -> ChaosWorkflows.DAG;
              default -> ChaosWorkflows.FLAKY;
            };
            keys.add(key);
            workflowOf.put(key, wf);
            batch.add(RunRequest.of(wf, new ChaosInput(key, true), RunOptions.defaults().withIdempotencyKey(key)));
          }
          trigger(id + (int) (first / BATCH), batch, keys);
          if (soakNanos == 0) progress = Math.max(progress, (double) accepted.size() / cfg.runs());
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

  /** Estimates finished runs from the ledger (for the backlog bound and progress lines only). */
  private void monitorLoop() {
    long last = 0;
    while (!Thread.currentThread().isInterrupted()) {
      try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT count(DISTINCT run_id) FROM chaos_ledger WHERE step IN ('only','join')"
               + " OR (step = 'flaky' AND attempt > 1)")) {
        rs.next();
        if (finishedEstimate.getAndSet(rs.getLong(1)) != rs.getLong(1)) lastLedgerProgress = System.nanoTime();
      } catch (SQLException e) {
        // PostgreSQL restarting: try again
      }
      if (System.nanoTime() - last > 10_000_000_000L) {
        last = System.nanoTime();
        log("accepted=" + accepted.size() + " finished~" + finishedEstimate.get() + " worker_kills=" + workerKills
            + " server_kills=" + serverKills + " pg_restarts=" + pgRestarts + " connection_kills=" + connectionKills);
      }
      if (!sleep(500)) return;
    }
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
      log("fault injection failed: " + e);
      throw new IllegalStateException(e);
    }
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
    while (finishedEstimate.get() < accepted.size() && System.nanoTime() < deadline) sleep(500);
    log("ledger shows ~" + finishedEstimate.get() + " of " + accepted.size() + " finished; checking every run via the API");

    // The ledger: executions per (run, step) and distinct attempts.
    Map<String, Map<String, List<Integer>>> ledger = new HashMap<>();
    try (Connection c = DriverManager.getConnection(jdbcUrl()); Statement st = c.createStatement()) {
      st.setFetchSize(10_000);
      c.setAutoCommit(false);
      try (ResultSet rs = st.executeQuery("SELECT run_id, step, attempt FROM chaos_ledger")) {
        while (rs.next()) {
          ledger.computeIfAbsent(rs.getString(1), k -> new HashMap<>())
              .computeIfAbsent(rs.getString(2), k -> new ArrayList<>()).add(rs.getInt(3));
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
    long completed = 0, lost = 0, stuck = 0, duplicates = 0, reexecutions = 0;
    List<String> problems = new ArrayList<>();
    List<String> stuckIds = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      String id = accepted.get(key);
      RunInfo info = futures.get(i).get();
      Map<String, List<Integer>> exec = ledger.getOrDefault(id, Map.of());
      if (info == null) {
        lost++;
        note(problems, "run " + id + " (" + key + ") not found; ledger " + exec);
        continue;
      }
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
      for (StepInfo s : info.steps()) {
        List<Integer> attempts = exec.getOrDefault(s.name(), List.of());
        // Executions explained by a distinct attempt the server recorded; the rest are duplicates.
        long explained = attempts.stream().filter(a -> a >= 1 && a <= s.attempts()).distinct().count();
        long dup = attempts.size() - explained;
        if (dup > 0) {
          duplicates += dup;
          note(problems, "run " + id + " step " + s.name() + ": " + attempts.size() + " executions " + attempts
              + " but the server recorded " + s.attempts() + " attempts (" + s.status() + ")");
        }
        int deliberate = ChaosWorkflows.FLAKY.equals(info.workflowName()) ? 1 : 0;
        reexecutions += Math.max(0, explained - 1 - deliberate);
      }
    }
    pool.shutdownNow();
    if (stuck > 0 || lost > 0) dumpDiagnostics(stuckIds);
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    return new ChaosResult(accepted.size(), completed, lost, duplicates, stuck, reexecutions, workerKills.get(),
        serverKills.get(), pgRestarts.get(), connectionKills.get(), seconds, List.copyOf(problems));
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
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
