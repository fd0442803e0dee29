package dev.drover.sdk.internal;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.AttemptRef;
import dev.drover.proto.v1.CancelStep;
import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.HeartbeatResponse;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReleaseStepsRequest;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.ReportStepEventsResponse;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepCompleted;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.StepFailed;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.NonRetryableException;
import dev.drover.sdk.StepCancelledException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@code dev.drover.sdk.Worker}: registration, the Listen stream, step
 * execution on virtual threads, batched at-least-once reporting, heartbeats, reconnects and
 * graceful shutdown.
 *
 * <p>Threads: gRPC callback threads only hand assignments over; each attempt runs on its own
 * virtual thread; {@value #REPORTERS} virtual "reporter" threads make the ReportStepEvents calls, each
 * taking whatever events have queued up (an attempt has exactly one report, its outcome, so order
 * between reporters does not matter, and several calls in flight keep a busy worker's reports
 * flowing while one batch is being committed); one virtual "supervisor" thread owns heartbeats and reconnects (so
 * at most one reconnect runs at a time); one platform timer thread fires execution timeouts.
 *
 * <pre>{@code
 * WorkerRuntime rt = new WorkerRuntime(transport, config);
 * rt.start();
 * ...
 * rt.close(Duration.ofSeconds(30));
 * }</pre>
 */
public final class WorkerRuntime {
  /** Reported to the server in RegisterRequest.sdk. */
  public static final String SDK = "drover-java/0.1.0";

  private static final Logger log = LoggerFactory.getLogger("drover.worker");
  private static final int MAX_BATCH = 500;
  private static final long FIRST_REGISTER_TIMEOUT_MS = 10_000;
  private static final long FLUSH_TIMEOUT_MS = 10_000;
  private static final long DEFAULT_HEARTBEAT_MS = 5_000;
  /** Consecutive heartbeat failures after which the Listen stream is assumed dead too. */
  private static final int HEARTBEAT_FAILURES_BEFORE_RECONNECT = 3;
  private static final int MAX_STACK_TRACE_CHARS = 16_384;
  private static final int MAX_MESSAGE_CHARS = 4_096;

  /** A workflow this worker executes: its definition and the instance whose methods run. */
  public record Registration(WorkflowModel model, Object instance) {}

  /**
   * Worker settings.
   *
   * @param name worker name
   * @param workflows what it executes
   * @param slots concurrent slot units it accepts
   * @param labels affinity labels
   * @param heartbeatInterval override, or {@code null} to use the server's
   */
  public record Config(
      String name,
      List<Registration> workflows,
      int slots,
      Map<String, String> labels,
      Duration heartbeatInterval) {
    /** Copies collections so the record stays immutable. */
    public Config {
      workflows = List.copyOf(workflows);
      labels = Map.copyOf(labels);
    }
  }

  /** Why an attempt was asked to stop; the first reason wins. */
  enum CancelReason {
    CANCELLED,
    TIMED_OUT,
    SHUTDOWN
  }

  /** One attempt of a step executing (or about to execute) on this worker. */
  static final class Attempt {
    final StartStep start;
    final StepModel step;
    final Registration registration;
    final int slotCost;
    final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicReference<CancelReason> reason = new AtomicReference<>();
    private volatile String cancelMessage;
    volatile Thread thread;
    volatile ScheduledFuture<?> timeout;

    Attempt(StartStep start, StepModel step, Registration registration) {
      this.start = start;
      this.step = step;
      this.registration = registration;
      int cost = start.getSlotCost() > 0 ? start.getSlotCost() : step != null ? step.slots() : 1;
      this.slotCost = cost;
    }

    long taskId() {
      return start.getTaskId();
    }

    int attempt() {
      return start.getAttempt();
    }

    CancelReason cancelReason() {
      return reason.get();
    }

    String cancelMessage() {
      return cancelMessage;
    }

    /** Flags the attempt and interrupts its thread; returns false if it was already flagged. */
    boolean cancel(CancelReason why, String message) {
      if (finished.get() || !reason.compareAndSet(null, why)) {
        return false;
      }
      cancelMessage = message;
      // Set the flag before reading the thread: the step thread publishes itself before checking
      // the flag, so one of the two sides always sees the other.
      Thread t = thread;
      if (t != null) {
        t.interrupt();
      }
      return true;
    }

    String describe() {
      return start.getWorkflowName() + "/" + start.getStepName() + " of run " + start.getRunId()
          + " (task " + taskId() + ", attempt " + attempt() + ")";
    }
  }

  private final Transport transport;
  private final Config config;
  private final Map<String, Registration> byWorkflow = new LinkedHashMap<>();
  private final ConcurrentHashMap<Long, Attempt> inFlight = new ConcurrentHashMap<>();
  private final LinkedBlockingQueue<StepEvent> events = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<Long> reconnectSignals = new LinkedBlockingQueue<>();
  private final AtomicLong listenGeneration = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ExecutorService stepExecutor;
  private final ScheduledThreadPoolExecutor timers;

  private volatile String workerId = "";
  private volatile long heartbeatIntervalMs = DEFAULT_HEARTBEAT_MS;
  private volatile boolean connected;
  private volatile boolean draining;
  private volatile boolean stopped;
  private volatile boolean reporterStop;
  private volatile boolean reporterAbort;
  private volatile ClientCallStreamObserver<ListenRequest> listenCall;
  /** Counted down when the Listen stream ends while the worker is shutting down (see {@link #handBack}). */
  private final java.util.concurrent.CountDownLatch listenEndedWhileDraining = new java.util.concurrent.CountDownLatch(1);
  /**
   * Attempts that arrived after shutdown began, not started: handed back to the server. Null once
   * {@link #handBack} took them; later arrivals are reported as failed, as before hand-back existed.
   */
  private List<Attempt> arrivedWhileDraining = new ArrayList<>();
  private final Object handBackLock = new Object();
  /** How long close() waits for the server to end the Listen stream before it gives up on handing back. */
  private static final long LEAVE_WAIT_MS = 5_000;
  private Thread supervisor;
  // One is best measured on 2 cores (burn-down 15k/s with 1, 12k/s with 3: more calls in flight
  // only add contention); the loop supports more for machines with cores to spare.
  private static final int REPORTERS = 1;
  /** Finished attempts whose terminal report is not acknowledged yet: task id → attempt. */
  private final java.util.concurrent.ConcurrentHashMap<Long, Integer> unreported = new java.util.concurrent.ConcurrentHashMap<>();

  private void forgetReported(List<StepEvent> sent) {
    for (StepEvent e : sent) {
      unreported.remove(e.getTaskId(), e.getAttempt());
    }
  }
  private final List<Thread> reporters = new ArrayList<>();

  /** Creates a runtime; nothing happens until {@link #start()}. */
  private volatile Spawner spawner;

  /** Lets steps spawn child runs through {@code s} (set before {@link #start()}). */
  public void spawner(Spawner s) {
    this.spawner = s;
  }

  private volatile KeyPauser keyPauser;

  /** Lets steps pause rate limit keys through {@code p} (set before {@link #start()}). */
  public void keyPauser(KeyPauser p) {
    this.keyPauser = p;
  }

  public WorkerRuntime(Transport transport, Config config) {
    this.transport = transport;
    this.config = config;
    for (Registration r : config.workflows()) {
      if (byWorkflow.putIfAbsent(r.model().name(), r) != null) {
        throw new IllegalArgumentException(
            "workflow '" + r.model().name() + "' is registered twice on worker '" + config.name() + "'");
      }
      for (StepModel s : r.model().steps()) {
        if (s.slots() > config.slots()) {
          throw new IllegalArgumentException(
              "workflow '" + r.model().name() + "', step '" + s.name() + "' needs " + s.slots()
                  + " slots but worker '" + config.name() + "' has only " + config.slots());
        }
      }
    }
    if (byWorkflow.isEmpty()) {
      throw new IllegalArgumentException(
          "worker '" + config.name() + "' has no workflows: call register(...) before start()");
    }
    this.stepExecutor =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("drover-step-", 0).factory());
    this.timers =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "drover-timeouts-" + config.name());
              t.setDaemon(true);
              return t;
            });
    this.timers.setRemoveOnCancelPolicy(true);
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------

  /**
   * Registers (retrying transient failures for up to ~10 s), opens the Listen stream and starts
   * the background threads.
   *
   * @throws DroverException when registration is refused or the server stays unreachable
   */
  public void start() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("worker '" + config.name() + "' already started");
    }
    long deadline = System.currentTimeMillis() + FIRST_REGISTER_TIMEOUT_MS;
    Backoff backoff = new Backoff(100, 2_000, 0.5);
    while (true) {
      try {
        register();
        break;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        long delay = backoff.next();
        boolean permanent =
            code == Status.Code.UNAUTHENTICATED
                || code == Status.Code.INVALID_ARGUMENT
                || code == Status.Code.PERMISSION_DENIED;
        if (permanent || System.currentTimeMillis() + delay > deadline) {
          shutdownExecutors();
          DroverException d = Protos.toDroverException(e);
          throw new DroverException(
              d.code(),
              "worker '" + config.name() + "' could not register with Drover at "
                  + transport.target() + ": " + d.getMessage(),
              e);
        }
        log.debug("worker '{}' register failed ({}), retrying in {} ms", config.name(), describe(e), delay);
        if (!sleep(delay)) {
          shutdownExecutors();
          throw new DroverException(DroverException.Code.OTHER, "interrupted while registering");
        }
      }
    }
    openListen();
    for (int i = 0; i < REPORTERS; i++) {
      reporters.add(Thread.ofVirtual().name("drover-reporter-" + config.name() + "-" + i).start(this::reportLoop));
    }
    supervisor = Thread.ofVirtual().name("drover-supervisor-" + config.name()).start(this::superviseLoop);
    log.info(
        "worker '{}' registered as {} with {} (workflows {}, {} slots)",
        config.name(), workerId, transport.target(), byWorkflow.keySet(), config.slots());
  }

  /**
   * Stops taking work, waits up to {@code drainDeadline} for running attempts, reports the rest as
   * cancelled, flushes all reports, then stops the background threads. Idempotent.
   */
  public void close(Duration drainDeadline) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (!started.get()) {
      shutdownExecutors();
      return;
    }
    long deadline = System.currentTimeMillis() + Math.max(0, drainDeadline.toMillis());
    draining = true;
    handBack(Math.min(deadline, System.currentTimeMillis() + LEAVE_WAIT_MS));
    connected = false;
    cancelListen("worker closing");
    while (!inFlight.isEmpty() && System.currentTimeMillis() < deadline) {
      if (!sleep(10)) {
        break;
      }
    }
    for (Attempt a : List.copyOf(inFlight.values())) {
      a.cancel(CancelReason.SHUTDOWN, "worker '" + config.name() + "' shut down");
      // Report now rather than waiting for the thread, which may ignore the interrupt; its own
      // report later is a no-op because the attempt is already finished.
      finish(a, failedEvent(a, "worker '" + config.name() + "' shut down before the step finished",
          "WorkerShutdown", "", false));
      log.warn("worker '{}' abandoned {} at shutdown", config.name(), a.describe());
    }
    reporterStop = true;
    long flushDeadline = System.currentTimeMillis() + FLUSH_TIMEOUT_MS;
    for (Thread r : reporters) {
      joinQuietly(r, Math.max(1, flushDeadline - System.currentTimeMillis()));
    }
    if (reporters.stream().anyMatch(Thread::isAlive)) {
      reporterAbort = true;
      reporters.forEach(Thread::interrupt);
      for (Thread r : reporters) {
        joinQuietly(r, 1_000);
      }
    }
    stopped = true;
    supervisor.interrupt();
    joinQuietly(supervisor, 2_000);
    shutdownExecutors();
    log.info("worker '{}' ({}) stopped", config.name(), workerId);
  }

  /**
   * Hands back the steps that reached this worker after its shutdown began, so that another worker
   * runs them at once instead of after their lease.
   *
   * <p>This SDK has no buffer: a step starts on its own virtual thread the moment it arrives. So what
   * a worker holds without having started it is only what is on its way when shutdown begins: sent
   * by the server (claimed, leased to this worker) but not received yet, on the wire or in gRPC's
   * buffers. Cancelling the stream (what close() did before) drops those messages, and the steps
   * then waited out their lease. Instead the worker asks the server to end its stream
   * (ReleaseSteps with leaving: no more work, and the replica holding the stream completes it). The
   * stream is ordered, so once it ended everything sent has arrived; {@link #startAttempt} kept what
   * arrived meanwhile instead of starting it, and those attempts go back with a second call. While
   * this waits, attempts already running go on (the drain deadline covers both). An older server
   * (UNIMPLEMENTED), an unreachable one, or a stream that does not end in time leaves the rest to
   * the old path: arrivals are reported as failed, steps still on the wire wait for their lease.
   */
  private void handBack(long untilMillis) {
    boolean supported = true;
    if (connected) {
      while (listenEndedWhileDraining.getCount() > 0 && System.currentTimeMillis() < untilMillis) {
        try {
          transport.workers().releaseSteps(
              ReleaseStepsRequest.newBuilder().setWorkerId(workerId).setLeaving(true).build());
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
            supported = false;
            break;
          }
          log.debug("worker '{}' could not announce its shutdown: {}", config.name(), describe(e));
        }
        // Repeated: the replica holding the stream hears of it through a notification, which can be lost.
        try {
          listenEndedWhileDraining.await(
              Math.max(1, Math.min(1_000, untilMillis - System.currentTimeMillis())), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    List<Attempt> back;
    synchronized (handBackLock) {
      back = arrivedWhileDraining;
      arrivedWhileDraining = null;
    }
    if (back.isEmpty()) {
      return;
    }
    int released = -1;
    if (supported) {
      ReleaseStepsRequest.Builder req = ReleaseStepsRequest.newBuilder().setWorkerId(workerId);
      for (Attempt a : back) {
        req.addSteps(AttemptRef.newBuilder().setTaskId(a.taskId()).setAttempt(a.attempt()));
      }
      for (int tries = 0; tries < 3 && released < 0; tries++) {
        try {
          released = transport.workers().releaseSteps(req.build()).getReleased();
        } catch (StatusRuntimeException e) {
          log.debug("worker '{}' could not hand back {} step(s): {}", config.name(), back.size(), describe(e));
          if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED || !sleep(200)) {
            break;
          }
        }
      }
    }
    if (released >= 0) {
      // Those not released were no longer this worker's (their run was cancelled, say): nothing to do.
      log.info("worker '{}' handed back {} step(s) it had not started", config.name(), released);
      return;
    }
    for (Attempt a : back) {
      finish(a, failedEvent(a, "worker '" + config.name() + "' was shutting down when the step arrived",
          "WorkerShutdown", "", false));
    }
  }

  /** Worker name. */
  public String name() {
    return config.name();
  }

  /** Current worker id (changes only if the server forgot this worker). */
  public String workerId() {
    return workerId;
  }

  /** Attempts currently executing. */
  public int inFlight() {
    return inFlight.size();
  }

  /** Whether the Listen stream is believed open. */
  public boolean isConnected() {
    return connected && !closed.get();
  }

  // ------------------------------------------------------------------------------------------
  // Connection: register, listen, heartbeat, reconnect
  // ------------------------------------------------------------------------------------------

  private void register() {
    RegisterRequest.Builder req =
        RegisterRequest.newBuilder()
            .setWorkerName(config.name())
            .setSlots(config.slots())
            .putAllLabels(config.labels())
            .setPreviousWorkerId(workerId)
            .setSdk(SDK);
    for (Registration r : byWorkflow.values()) {
      req.addWorkflows(r.model().toProto());
    }
    // Capped so that a black-holed address cannot stall start() far beyond its ~10 s promise.
    Duration deadline =
        transport.callTimeout().compareTo(Duration.ofSeconds(10)) < 0 ? transport.callTimeout() : Duration.ofSeconds(10);
    RegisterResponse resp = transport.workers(deadline).register(req.build());
    workerId = resp.getWorkerId();
    if (config.heartbeatInterval() != null) {
      heartbeatIntervalMs = Math.max(1, config.heartbeatInterval().toMillis());
    } else {
      heartbeatIntervalMs =
          resp.getHeartbeatIntervalMs() > 0 ? resp.getHeartbeatIntervalMs() : DEFAULT_HEARTBEAT_MS;
    }
  }

  private void openListen() {
    long generation = listenGeneration.incrementAndGet();
    ListenRequest req = ListenRequest.newBuilder().setWorkerId(workerId).addAllInFlight(inFlightRefs()).build();
    // Assignments are handled where they are read (the channel's event loop): handleAssignment only
    // books the attempt and starts its thread, so passing each message through another thread first
    // would only add a wake-up to every step's start.
    transport
        .workersAsync()
        .withExecutor(com.google.common.util.concurrent.MoreExecutors.directExecutor())
        .listen(
            req,
            new ClientResponseObserver<ListenRequest, dev.drover.proto.v1.Assignment>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<ListenRequest> call) {
                listenCall = call;
              }

              @Override
              public void onNext(Assignment a) {
                try {
                  handleAssignment(a);
                } catch (RuntimeException e) {
                  log.error("worker '{}' failed to handle assignment {}", config.name(), a, e);
                }
              }

              @Override
              public void onError(Throwable t) {
                listenEnded(generation, t);
              }

              @Override
              public void onCompleted() {
                listenEnded(generation, null);
              }
            });
    connected = true;
  }

  private void listenEnded(long generation, Throwable t) {
    if (generation == listenGeneration.get() && draining) {
      listenEndedWhileDraining.countDown(); // asked for by handBack()
    }
    if (generation != listenGeneration.get() || draining || stopped) {
      return; // a stream we replaced or cancelled ourselves
    }
    connected = false;
    log.warn(
        "worker '{}' lost its assignment stream ({}); reconnecting",
        config.name(), t == null ? "closed by server" : describe(t));
    reconnectSignals.offer(generation);
  }

  private void cancelListen(String why) {
    listenGeneration.incrementAndGet(); // makes the old stream's callbacks stale
    ClientCallStreamObserver<ListenRequest> call = listenCall;
    if (call != null) {
      try {
        call.cancel(why, null);
      } catch (RuntimeException e) {
        log.debug("cancelling Listen failed", e);
      }
    }
  }

  /**
   * Everything this worker holds: running attempts (with their slots) and finished ones whose report
   * the server has not acknowledged yet (slot cost 0). A reconnecting worker sends this list; the
   * server puts back in the queue any other step it had sent, which was lost on the way.
   */
  private List<AttemptRef> inFlightRefs() {
    List<AttemptRef> refs = new ArrayList<>();
    for (Attempt a : inFlight.values()) {
      refs.add(
          AttemptRef.newBuilder()
              .setTaskId(a.taskId())
              .setAttempt(a.attempt())
              .setSlotCost(a.slotCost)
              .build());
    }
    for (var e : unreported.entrySet()) {
      if (!inFlight.containsKey(e.getKey())) {
        refs.add(AttemptRef.newBuilder().setTaskId(e.getKey()).setAttempt(e.getValue()).setSlotCost(0).build());
      }
    }
    return refs;
  }

  private void superviseLoop() {
    long nextHeartbeat = System.currentTimeMillis() + heartbeatIntervalMs;
    int heartbeatFailures = 0;
    while (!stopped) {
      try {
        long wait = nextHeartbeat - System.currentTimeMillis();
        Long signal = wait > 0 ? reconnectSignals.poll(wait, TimeUnit.MILLISECONDS) : null;
        if (stopped) {
          return;
        }
        if (signal != null) {
          if (signal == listenGeneration.get() && !draining) {
            reconnect();
            nextHeartbeat = System.currentTimeMillis() + heartbeatIntervalMs;
          }
          continue;
        }
        nextHeartbeat = System.currentTimeMillis() + heartbeatIntervalMs;
        try {
          HeartbeatResponse resp =
              transport.workers().heartbeat(HeartbeatRequest.newBuilder().setWorkerId(workerId).build());
          heartbeatFailures = 0;
          if (!resp.getKnown()) {
            log.warn("Drover server no longer knows worker '{}' ({}); re-registering", config.name(), workerId);
            reconnect();
          }
        } catch (StatusRuntimeException e) {
          heartbeatFailures++;
          if (heartbeatFailures == 1) {
            log.warn("worker '{}' heartbeat failed: {}", config.name(), describe(e));
          } else {
            log.debug("worker '{}' heartbeat failed ({} in a row): {}", config.name(), heartbeatFailures, describe(e));
          }
          if (heartbeatFailures >= HEARTBEAT_FAILURES_BEFORE_RECONNECT && !draining) {
            // The stream may be half-open without erroring; start over.
            heartbeatFailures = 0;
            reconnect();
          }
        }
      } catch (InterruptedException e) {
        if (stopped) {
          return;
        }
      } catch (RuntimeException e) {
        log.error("worker '{}' supervisor error", config.name(), e);
      }
    }
  }

  /** Re-registers (keeping the worker id if the server allows) and reopens Listen, until it works. */
  private void reconnect() {
    connected = false;
    cancelListen("reconnecting");
    // Capped at 1 s: a worker holding steps must be back before its lease runs out once a restarted
    // server is up again (the server grants one lease from its start).
    Backoff backoff = new Backoff(100, 1_000, 0.5);
    int failures = 0;
    while (!stopped) {
      try {
        String previous = workerId;
        register();
        if (!draining) {
          openListen();
        }
        log.info(
            "worker '{}' reconnected to {} as {}{} with {} step(s) in flight",
            config.name(), transport.target(), workerId,
            previous.equals(workerId) ? "" : " (was " + previous + ")", inFlight.size());
        return;
      } catch (StatusRuntimeException e) {
        failures++;
        if (failures == 1 || failures % 20 == 0) {
          log.warn("worker '{}' cannot reach Drover at {}: {} (attempt {}; retrying)",
              config.name(), transport.target(), describe(e), failures);
        } else {
          log.debug("worker '{}' reconnect attempt {} failed: {}", config.name(), failures, describe(e));
        }
      } catch (RuntimeException e) {
        failures++;
        log.warn("worker '{}' reconnect attempt {} failed", config.name(), failures, e);
      }
      if (!sleep(backoff.next())) {
        return;
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Step execution
  // ------------------------------------------------------------------------------------------

  private void handleAssignment(Assignment a) {
    switch (a.getKindCase()) {
      case START -> startAttempt(a.getStart());
      case STARTS -> a.getStarts().getStepsList().forEach(this::startAttempt);
      case CANCEL -> cancelAttempt(a.getCancel());
      default -> log.debug("ignoring unknown assignment kind {}", a.getKindCase());
    }
  }

  private void startAttempt(StartStep s) {
    Attempt existing = inFlight.get(s.getTaskId());
    if (existing != null) {
      if (existing.attempt() == s.getAttempt()) {
        log.debug("ignoring duplicate assignment of {}", existing.describe());
        return;
      }
      if (existing.attempt() > s.getAttempt()) {
        log.debug("ignoring stale assignment of attempt {} for {}", s.getAttempt(), existing.describe());
        return;
      }
      // The server moved on to a newer attempt: the old one is fenced, stop wasting a thread on it.
      existing.cancel(CancelReason.CANCELLED, "superseded by attempt " + s.getAttempt());
      inFlight.remove(existing.taskId(), existing);
    }
    Registration reg = byWorkflow.get(s.getWorkflowName());
    StepModel step = reg == null ? null : reg.model().step(s.getStepName());
    Attempt attempt = new Attempt(s, step, reg);
    inFlight.put(s.getTaskId(), attempt);
    // Checked after the put: close() sets the flag before it waits for inFlight to empty, so either
    // the drain sees this attempt (and waits for its report) or this sees the drain.
    if (draining) {
      // Delivered after shutdown began: hand it back instead of running it, since the reporters may
      // stop before it finishes, and a result that is never reported would be run again.
      synchronized (handBackLock) {
        if (arrivedWhileDraining != null) {
          inFlight.remove(s.getTaskId(), attempt);
          arrivedWhileDraining.add(attempt);
          return;
        }
      }
      // Too late to hand back (or the server cannot take it back): report it as not run.
      attempt.cancel(CancelReason.SHUTDOWN, "worker '" + config.name() + "' shut down");
      finish(attempt, failedEvent(attempt, "worker '" + config.name() + "' was shutting down when the step arrived",
          "WorkerShutdown", "", false));
      return;
    }
    try {
      stepExecutor.execute(() -> runAttempt(attempt));
    } catch (RejectedExecutionException e) {
      finish(attempt, failedEvent(attempt, "worker '" + config.name() + "' is shutting down",
          "WorkerShutdown", "", false));
    }
  }

  private void cancelAttempt(CancelStep c) {
    Attempt a = inFlight.get(c.getTaskId());
    if (a == null || a.attempt() != c.getAttempt()) {
      log.debug("cancel for task {} attempt {} ignored: not running here", c.getTaskId(), c.getAttempt());
      return;
    }
    boolean timeout = "execution timeout".equals(c.getReason());
    String message = c.getReason().isEmpty() ? "cancelled by the server" : c.getReason();
    if (a.cancel(timeout ? CancelReason.TIMED_OUT : CancelReason.CANCELLED, message)) {
      log.debug("cancelling {}: {}", a.describe(), message);
    }
  }

  private void runAttempt(Attempt a) {
    a.thread = Thread.currentThread();
    StartStep s = a.start;
    // No StepStarted report: the server marks a step running when it assigns it, and a report per
    // start would double the reporting traffic of the hot path for information nobody reads.
    try {
      if (a.step == null) {
        // Retryable on purpose: another worker (e.g. one running a different version) may have it.
        finish(a, failedEvent(a,
            "worker '" + config.name() + "' has no step '" + s.getStepName() + "' in workflow '"
                + s.getWorkflowName() + "' (version " + s.getWorkflowVersion() + ")",
            "UnknownStep", "", false));
        return;
      }
      long timeoutMs = s.getExecutionTimeoutMs() > 0 ? s.getExecutionTimeoutMs() : a.step.executionTimeoutMs();
      if (timeoutMs > 0) {
        a.timeout = timers.schedule(
            () -> {
              if (a.cancel(CancelReason.TIMED_OUT, "execution timeout of " + timeoutMs + " ms exceeded")) {
                log.debug("{} exceeded its execution timeout of {} ms", a.describe(), timeoutMs);
              }
            },
            timeoutMs,
            TimeUnit.MILLISECONDS);
      }
      if (a.cancelReason() != null) {
        finish(a, failedEvent(a, a.cancelMessage(), StepCancelledException.class.getName(), "", false));
        return;
      }
      StepContextImpl ctx = new StepContextImpl(s, a, spawner, keyPauser);
      Object[] args;
      try {
        args = bindArguments(a, ctx);
      } catch (IllegalArgumentException e) {
        finish(a, failedEvent(a, e.getMessage(), NonRetryableException.class.getName(), stackTrace(e), true));
        return;
      }
      Object result;
      try {
        result = a.step.method().invoke(a.registration.instance(), args);
      } catch (InvocationTargetException e) {
        reportThrowable(a, e.getCause() != null ? e.getCause() : e);
        return;
      }
      if (a.cancelReason() == CancelReason.TIMED_OUT) {
        // The step ignored the interrupt and finished late; honour the timeout contract.
        finish(a, failedEvent(a, a.cancelMessage(), "ExecutionTimeout", "", false));
        return;
      }
      String output;
      if (a.step.method().getReturnType() == void.class) {
        output = "null";
      } else {
        try {
          output = Json.write(result, "output of step '" + s.getStepName() + "'");
        } catch (IllegalArgumentException e) {
          finish(a, failedEvent(a, e.getMessage(), "OutputSerialization", stackTrace(e), true));
          return;
        }
      }
      finish(a, StepEvent.newBuilder()
          .setTaskId(a.taskId())
          .setAttempt(a.attempt())
          .setCompleted(StepCompleted.newBuilder().setOutputJson(output))
          .build());
    } catch (Throwable t) {
      // Reflection problems or errors thrown outside user code: still report, never kill the worker.
      reportThrowable(a, t);
    } finally {
      ScheduledFuture<?> f = a.timeout;
      if (f != null) {
        f.cancel(false);
      }
      Thread.interrupted(); // do not leak our interrupt
    }
  }

  private Object[] bindArguments(Attempt a, StepContextImpl ctx) {
    StepModel step = a.step;
    Object[] args = new Object[step.method().getParameterCount()];
    if (step.contextIndex() >= 0) {
      args[step.contextIndex()] = ctx;
    }
    if (step.inputIndex() >= 0) {
      String what = "input of run " + a.start.getRunId() + " for step '" + step.name() + "'";
      Object value = Json.read(a.start.getInputJson(), Json.MAPPER.constructType(step.inputType()), what);
      Class<?> raw = step.method().getParameterTypes()[step.inputIndex()];
      if (value == null && raw.isPrimitive()) {
        throw new IllegalArgumentException(what + " is empty but the step expects a " + raw.getName());
      }
      args[step.inputIndex()] = value;
    }
    return args;
  }

  private void reportThrowable(Attempt a, Throwable t) {
    CancelReason reason = a.cancelReason();
    String message = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    if (reason != null && (t instanceof InterruptedException || t instanceof StepCancelledException)) {
      message = a.cancelMessage();
    }
    boolean nonRetryable = hasNonRetryable(t);
    finish(a, failedEvent(a, message, t.getClass().getName(), stackTrace(t), nonRetryable));
    if (reason == null) {
      log.debug("{} failed: {}", a.describe(), message);
    }
  }

  private StepEvent failedEvent(Attempt a, String message, String type, String stack, boolean nonRetryable) {
    CancelReason reason = a.cancelReason();
    return StepEvent.newBuilder()
        .setTaskId(a.taskId())
        .setAttempt(a.attempt())
        .setFailed(
            StepFailed.newBuilder()
                .setErrorMessage(truncate(message == null ? type : message, MAX_MESSAGE_CHARS))
                .setErrorType(type)
                .setStackTrace(truncate(stack, MAX_STACK_TRACE_CHARS))
                .setNonRetryable(nonRetryable)
                .setTimedOut(reason == CancelReason.TIMED_OUT)
                .setCancelled(reason == CancelReason.CANCELLED || reason == CancelReason.SHUTDOWN))
        .build();
  }

  /** Enqueues the terminal event once per attempt, then frees its slot. */
  private void finish(Attempt a, StepEvent terminal) {
    if (!a.finished.compareAndSet(false, true)) {
      return;
    }
    unreported.put(a.taskId(), a.attempt());
    enqueue(terminal);
    inFlight.remove(a.taskId(), a);
    ScheduledFuture<?> f = a.timeout;
    if (f != null) {
      f.cancel(false);
    }
  }

  static boolean hasNonRetryable(Throwable t) {
    Set<Throwable> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      if (c instanceof NonRetryableException) {
        return true;
      }
    }
    return false;
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  private static String truncate(String s, int max) {
    if (s == null) {
      return "";
    }
    return s.length() <= max ? s : s.substring(0, max) + "... (truncated)";
  }

  // ------------------------------------------------------------------------------------------
  // Reporting
  // ------------------------------------------------------------------------------------------

  private void enqueue(StepEvent e) {
    events.add(e);
  }

  /**
   * Sends events in batches as soon as any are queued; a failed batch is retried (with newer events
   * appended, order preserved) until the server acknowledges it.
   */
  private void reportLoop() {
    List<StepEvent> pending = new ArrayList<>();
    Backoff backoff = new Backoff(50, 2_000, 0.0);
    int failures = 0;
    while (!reporterAbort) {
      try {
        if (pending.isEmpty()) {
          if (reporterStop && events.isEmpty()) {
            return;
          }
          StepEvent first = events.poll(100, TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          pending.add(first);
        }
        if (pending.size() < MAX_BATCH) {
          events.drainTo(pending, MAX_BATCH - pending.size());
        }
        try {
          ReportStepEventsResponse resp =
              transport.workers().reportStepEvents(
                  ReportStepEventsRequest.newBuilder().setWorkerId(workerId).addAllEvents(pending).build());
          for (int i = 0; i < pending.size() && i < resp.getAcceptedCount(); i++) {
            if (!resp.getAccepted(i)) {
              StepEvent e = pending.get(i);
              log.debug("server rejected {} event of task {} attempt {} (stale attempt); dropped",
                  e.getKindCase(), e.getTaskId(), e.getAttempt());
            }
          }
          if (failures > 0) {
            log.info("worker '{}' delivered step reports again after {} failed attempt(s)", config.name(), failures);
          }
          forgetReported(pending);
          pending.clear();
          backoff.reset();
          failures = 0;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
            // Retrying a batch the server deems malformed would loop forever.
            log.error("server rejected {} step event(s) as invalid, dropping them: {}", pending.size(), describe(e));
            forgetReported(pending);
          pending.clear();
            continue;
          }
          failures++;
          if (failures == 1) {
            log.warn("worker '{}' could not report {} step event(s): {}; retrying",
                config.name(), pending.size(), describe(e));
          } else {
            log.debug("report attempt {} failed: {}", failures, describe(e));
          }
          Thread.sleep(backoff.next());
        }
      } catch (InterruptedException e) {
        // Only close() interrupts us; the loop condition decides whether to give up.
      } catch (RuntimeException e) {
        log.error("worker '{}' reporter error", config.name(), e);
        sleep(100);
      }
    }
    int lost = pending.size();
    if (lost > 0) {
      log.warn("worker '{}' could not deliver {} step event(s) before shutdown", config.name(), lost);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Helpers
  // ------------------------------------------------------------------------------------------

  private void shutdownExecutors() {
    stepExecutor.shutdownNow();
    timers.shutdownNow();
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

  private static void joinQuietly(Thread t, long ms) {
    try {
      t.join(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      Status s = e.getStatus();
      String d = s.getDescription();
      if (d == null && s.getCause() != null) {
        d = s.getCause().getMessage();
      }
      return s.getCode() + (d == null ? "" : ": " + d);
    }
    return t.toString();
  }
}
