package dev.drover.sdk;

import dev.drover.proto.v1.AwaitRunRequest;
import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.ListRunsRequest;
import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.sdk.internal.Backoff;
import dev.drover.sdk.internal.Definitions;
import dev.drover.sdk.internal.Json;
import dev.drover.sdk.internal.Protos;
import dev.drover.sdk.internal.Transport;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the SDK: triggers, inspects, awaits and cancels runs, and creates workers that
 * share its connection. Thread-safe; create one per application and close it at shutdown.
 *
 * <pre>{@code
 * try (DroverClient client = DroverClient.builder().address("localhost:7077").token(token).build()) {
 *   RunHandle run = client.run("order", new Order("o-1", 42), RunOptions.defaults().withIdempotencyKey("o-1"));
 *   RunInfo info = run.await(Duration.ofMinutes(1));
 * }
 * }</pre>
 */
public final class DroverClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DroverClient.class);
  /** Longest single AwaitRun call; longer waits are split so no call outlives proxies' timeouts. */
  private static final Duration AWAIT_CHUNK = Duration.ofSeconds(60);

  private final Transport transport;
  private final List<String> addresses;
  private final CopyOnWriteArrayList<Worker> workers = new CopyOnWriteArrayList<>();
  private volatile boolean closed;
  // Concurrent single triggers share batch calls (see Coalescer): up to 1,000 runs or 1 MiB per call,
  // at most 4 calls in flight; a lone trigger still goes out at once as a single call.
  private final dev.drover.sdk.internal.Coalescer<TriggerRunRequest, TriggerRunResponse> triggers;
  private final dev.drover.sdk.internal.Coalescer<dev.drover.proto.v1.PushEventRequest, dev.drover.proto.v1.PushEventResponse> pushes;

  private DroverClient(Builder b) {
    this.addresses = List.copyOf(b.addresses);
    this.transport = new Transport(addresses, b.token, b.callTimeout);
    this.triggers = new dev.drover.sdk.internal.Coalescer<>(
        req -> retryingTrigger(deadline -> transport.runs(deadline).triggerRun(req)),
        // Independent items: the server writes them as it writes single calls (its group-commit writer
        // shares one statement among every caller's triggers) and answers each item on its own.
        reqs -> retryingTrigger(deadline -> transport.runs(deadline).triggerRuns(
            dev.drover.proto.v1.TriggerRunsRequest.newBuilder().addAllRuns(reqs).setIndependent(true).build())).getRunsList(),
        r -> r.hasError() ? new DroverException(
            Protos.toCode(io.grpc.Status.fromCodeValue(r.getError().getCode()).getCode()), r.getError().getMessage()) : null,
        TriggerRunRequest::getSerializedSize, 1_000, 1 << 20, 4);
    this.pushes = new dev.drover.sdk.internal.Coalescer<>(
        req -> retryingTrigger(deadline -> transport.events(deadline).pushEvent(req)),
        reqs -> retryingTrigger(deadline -> transport.events(deadline).pushEvents(
            dev.drover.proto.v1.PushEventsRequest.newBuilder().addAllEvents(reqs).build())).getEventsList(),
        r -> null, // all or none: a bad event fails the call, then each is sent alone
        dev.drover.proto.v1.PushEventRequest::getSerializedSize, 1_000, 1 << 20, 4);
  }

  /** Starts configuring a client. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client configured from {@code DROVER_ADDRESS} (default {@code localhost:7077}; a
   * comma-separated list is accepted) and {@code DROVER_TOKEN}.
   */
  public static DroverClient fromEnvironment() {
    Builder b = builder();
    String address = System.getenv("DROVER_ADDRESS");
    if (address != null && !address.isBlank()) {
      List<String> list = new ArrayList<>();
      for (String a : address.split(",")) {
        if (!a.isBlank()) {
          list.add(a.trim());
        }
      }
      b.addresses(list);
    }
    String token = System.getenv("DROVER_TOKEN");
    if (token != null && !token.isBlank()) {
      b.token(token);
    }
    return b.build();
  }

  /**
   * Builder of {@link DroverClient}.
   *
   * <pre>{@code
   * DroverClient c = DroverClient.builder().address("drover:7077").token("t").callTimeout(Duration.ofSeconds(10)).build();
   * }</pre>
   */
  public static final class Builder {
    private List<String> addresses = List.of("localhost:7077");
    private String token;
    private Duration callTimeout = Duration.ofSeconds(30);

    private Builder() {}

    /** Server address as {@code host:port} (default {@code localhost:7077}). */
    public Builder address(String address) {
      return addresses(List.of(Objects.requireNonNull(address, "address")));
    }

    /**
     * Several servers of one deployment: calls are spread over them (round robin) and a dead one is
     * skipped; workers reconnect to a live one by themselves.
     */
    public Builder addresses(List<String> addresses) {
      if (addresses == null || addresses.isEmpty() || addresses.stream().anyMatch(a -> a == null || a.isBlank())) {
        throw new IllegalArgumentException("addresses must be a non-empty list of host:port");
      }
      this.addresses = List.copyOf(addresses);
      return this;
    }

    /** Bearer token sent with every call. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Deadline of each unary call (default 30 s). */
    public Builder callTimeout(Duration callTimeout) {
      if (callTimeout == null || callTimeout.isNegative() || callTimeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive");
      }
      this.callTimeout = callTimeout;
      return this;
    }

    /** Creates the client; connecting happens lazily on the first call. */
    public DroverClient build() {
      return new DroverClient(this);
    }
  }

  /** The configured server addresses (the first is the one in use). */
  public List<String> addresses() {
    return addresses;
  }

  // ------------------------------------------------------------------------------------------
  // Runs
  // ------------------------------------------------------------------------------------------

  /** Triggers the workflow declared by {@code workflowClass}'s {@link Workflow} annotation. */
  public RunHandle run(Class<?> workflowClass, Object input) {
    return run(Definitions.workflowName(workflowClass), input, RunOptions.defaults());
  }

  /** Triggers the workflow declared by {@code workflowClass} with options. */
  public RunHandle run(Class<?> workflowClass, Object input, RunOptions options) {
    return run(Definitions.workflowName(workflowClass), input, options);
  }

  /** Triggers {@code workflowName} with {@code input} serialized by Jackson. */
  public RunHandle run(String workflowName, Object input) {
    return run(workflowName, input, RunOptions.defaults());
  }

  /**
   * Triggers {@code workflowName} with {@code input} serialized by Jackson ({@code null} sends no
   * input, which the server treats as {@code {}}).
   *
   * @throws IllegalArgumentException when {@code input} cannot be serialized
   * @throws DroverException when the server refuses the trigger
   */
  public RunHandle run(String workflowName, Object input, RunOptions options) {
    String json = input == null ? "" : Json.write(input, "input of workflow '" + workflowName + "'");
    return runJson(workflowName, json, options);
  }

  /** Triggers {@code workflowName} with input given as raw JSON text (sent as-is). */
  public RunHandle runJson(String workflowName, String inputJson, RunOptions options) {
    Objects.requireNonNull(workflowName, "workflowName");
    TriggerRunRequest req = triggerRequest(workflowName, inputJson, options);
    // A call with an idempotency key goes alone: two concurrent calls with the same key must each get
    // the one run back, which is what single calls are defined (and tested) to do.
    TriggerRunResponse resp = req.getIdempotencyKey().isEmpty()
        ? triggers.call(req)
        : retryingTrigger(deadline -> transport.runs(deadline).triggerRun(req));
    return new RunHandle(this, resp.getRunId(), resp.getCreated());
  }

  /**
   * Triggers up to 10,000 runs in one call and one transaction: all are accepted, or none (an
   * invalid item fails the call with a {@link DroverException} naming it, e.g. {@code runs[17]}).
   * Far cheaper per run than single calls.
   */
  public List<RunHandle> runMany(List<RunRequest> requests) {
    Objects.requireNonNull(requests, "requests");
    dev.drover.proto.v1.TriggerRunsRequest.Builder batch = dev.drover.proto.v1.TriggerRunsRequest.newBuilder();
    for (int i = 0; i < requests.size(); i++) {
      RunRequest r = requests.get(i);
      String json = r.input() == null ? "" : Json.write(r.input(), "input of runs[" + i + "]");
      batch.addRuns(triggerRequest(r.workflowName(), json, r.options()));
    }
    dev.drover.proto.v1.TriggerRunsRequest request = batch.build();
    dev.drover.proto.v1.TriggerRunsResponse resp = retryingTrigger(deadline -> transport.runs(deadline).triggerRuns(request));
    List<RunHandle> out = new java.util.ArrayList<>(resp.getRunsCount());
    for (TriggerRunResponse t : resp.getRunsList()) {
      out.add(new RunHandle(this, t.getRunId(), t.getCreated()));
    }
    return out;
  }

  private static TriggerRunRequest triggerRequest(String workflowName, String inputJson, RunOptions options) {
    RunOptions o = options == null ? RunOptions.defaults() : options;
    TriggerRunRequest.Builder req =
        TriggerRunRequest.newBuilder()
            .setWorkflowName(workflowName)
            .setInputJson(inputJson == null ? "" : inputJson)
            .putAllMetadata(o.metadata())
            .setPriority(o.priority())
            // Chosen here so that retrying this very request can never create a second run.
            .setRunId(dev.drover.sdk.internal.RunIds.next());
    if (o.idempotencyKey() != null) {
      req.setIdempotencyKey(o.idempotencyKey());
    }
    if (o.workflowVersion() != null) {
      req.setWorkflowVersion(o.workflowVersion());
    }
    return req.build();
  }

  /** Triggers child runs for a worker's step (see {@link StepContext#spawn}). */
  List<RunHandle> spawnChildren(
      String parentRunId, String parentStep, int firstIndex, String workflowName, List<String> inputsJson) {
    dev.drover.proto.v1.TriggerRunsRequest.Builder batch = dev.drover.proto.v1.TriggerRunsRequest.newBuilder();
    for (int i = 0; i < inputsJson.size(); i++) {
      batch.addRuns(
          triggerRequest(workflowName, inputsJson.get(i), RunOptions.defaults()).toBuilder()
              .setParentRunId(parentRunId)
              .setParentStep(parentStep)
              .setChildIndex(firstIndex + i));
    }
    dev.drover.proto.v1.TriggerRunsRequest request = batch.build();
    dev.drover.proto.v1.TriggerRunsResponse resp =
        retryingTrigger(deadline -> transport.runs(deadline).triggerRuns(request));
    List<RunHandle> out = new java.util.ArrayList<>(resp.getRunsCount());
    for (TriggerRunResponse t : resp.getRunsList()) {
      out.add(new RunHandle(this, t.getRunId(), t.getCreated()));
    }
    return out;
  }

  /**
   * Runs a finished run again, in place, from the start ({@code fromStep} null) or from one step:
   * that step and its descendants (and any step that did not succeed) run again; the others keep
   * their outputs. Returns the run as it is right after the replay began.
   *
   * <pre>{@code
   * client.replay(runId, "charge");
   * client.awaitRun(runId, Duration.ofMinutes(1));
   * }</pre>
   */
  public RunInfo replay(String runId, String fromStep) {
    dev.drover.proto.v1.ReplayRunRequest req =
        dev.drover.proto.v1.ReplayRunRequest.newBuilder()
            .setRunId(Objects.requireNonNull(runId, "runId"))
            .setFromStep(fromStep == null ? "" : fromStep)
            .build();
    return call(() -> Protos.toRunInfo(transport.runs().replayRun(req).getRun()));
  }

  /**
   * Replays every finished run of {@code workflowName} matching the filter (nulls = any) and returns
   * the ids of the runs replayed (at most {@code limit}; 0 = 1000).
   */
  public List<String> replayMatching(
      String workflowName,
      RunStatus status,
      Instant createdAfter,
      Instant createdBefore,
      Map<String, String> metadata,
      String fromStep,
      int limit) {
    dev.drover.proto.v1.ReplayRunsRequest.Builder req =
        dev.drover.proto.v1.ReplayRunsRequest.newBuilder()
            .setWorkflowName(Objects.requireNonNull(workflowName, "workflowName"))
            .setStatus(Protos.toProto(status))
            .setFromStep(fromStep == null ? "" : fromStep)
            .setLimit(Math.max(0, limit));
    if (createdAfter != null) {
      req.setCreatedAfterMs(createdAfter.toEpochMilli());
    }
    if (createdBefore != null) {
      req.setCreatedBeforeMs(createdBefore.toEpochMilli());
    }
    if (metadata != null) {
      req.putAllMetadata(metadata);
    }
    return call(() -> List.copyOf(transport.runs().replayRuns(req.build()).getRunIdsList()));
  }

  /** A handle on an existing run (no server call). */
  public RunHandle handle(String runId) {
    return new RunHandle(this, Objects.requireNonNull(runId, "runId"), false);
  }

  /** The run's current state, with its steps. */
  public RunInfo getRun(String runId) {
    return call(() -> Protos.toRunInfo(transport.runs().getRun(GetRunRequest.newBuilder().setRunId(runId).build())));
  }

  /**
   * Waits until the run is final or {@code timeout} passes and returns its state then. Long waits
   * are split into server-side waits of at most 60 s.
   */
  public RunInfo awaitRun(String runId, Duration timeout) {
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    while (true) {
      long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
      if (remainingMs <= 0) {
        // AwaitRun with 0 would mean "server default" (30 s): a zero wait is a plain read.
        return getRun(runId);
      }
      RunInfo info;
      try {
        info = awaitChunk(runId, Math.min(remainingMs, AWAIT_CHUNK.toMillis()));
      } catch (DroverException e) {
        // A server restart or a deadline is not the run's fault: keep waiting while time remains.
        boolean transientError =
            e.code() == DroverException.Code.UNAVAILABLE || e.code() == DroverException.Code.DEADLINE_EXCEEDED;
        if (!transientError || closed || System.nanoTime() >= deadline) {
          throw e;
        }
        sleepQuietly(200);
        continue;
      }
      if (info.status().isFinal()) {
        return info;
      }
    }
  }

  private RunInfo awaitChunk(String runId, long waitMs) {
    Run run =
        call(() -> transport
            .awaiting(Duration.ofMillis(waitMs).plus(transport.callTimeout()))
            .awaitRun(AwaitRunRequest.newBuilder().setRunId(runId).setTimeoutMs(waitMs).build()));
    return Protos.toRunInfo(run);
  }

  /**
   * Recent runs, newest first, without their steps.
   *
   * @param workflowName filter, or {@code null} for all
   * @param status filter, or {@code null} for all
   * @param limit maximum number (0 = server default of 50; at most 1000)
   */
  public List<RunInfo> listRuns(String workflowName, RunStatus status, int limit) {
    ListRunsRequest req =
        ListRunsRequest.newBuilder()
            .setWorkflowName(workflowName == null ? "" : workflowName)
            .setStatus(Protos.toProto(status))
            .setLimit(Math.max(0, limit))
            .build();
    return call(() -> transport.runs().listRuns(req).getRunsList().stream().map(Protos::toRunInfo).toList());
  }

  /** Cancels the run; returns false when it had already finished. */
  public boolean cancel(String runId) {
    return call(() -> transport.runs().cancelRun(CancelRunRequest.newBuilder().setRunId(runId).build()).getCancelled());
  }

  /** Starts configuring a worker that shares this client's connection. */
  public WorkerBuilder newWorker(String name) {
    return new WorkerBuilder(this, name);
  }

  /**
   * Closes the workers started from this client that are still running (draining them for up to
   * 30 s each), then the connection.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    for (Worker w : List.copyOf(workers)) {
      w.close();
    }
    closed = true; // stops run watchers from retrying against a shut-down channel
    transport.close();
  }

  // ------------------------------------------------------------------------------------------
  // Package-private plumbing
  // ------------------------------------------------------------------------------------------

  Transport transport() {
    return transport;
  }

  void track(Worker w) {
    workers.add(w);
  }

  void forget(Worker w) {
    workers.remove(w);
  }

  /** Waits for a final state on a virtual thread, riding out transient server unavailability. */
  CompletableFuture<RunInfo> watch(String runId) {
    CompletableFuture<RunInfo> future = new CompletableFuture<>();
    Thread.ofVirtual().name("drover-await-" + runId).start(() -> {
      Backoff backoff = new Backoff(200, 5_000, 0.5);
      while (!future.isDone()) {
        try {
          RunInfo info = awaitChunk(runId, AWAIT_CHUNK.toMillis());
          backoff.reset();
          if (info.status().isFinal()) {
            future.complete(info);
          }
        } catch (DroverException e) {
          boolean transientError =
              e.code() == DroverException.Code.UNAVAILABLE || e.code() == DroverException.Code.DEADLINE_EXCEEDED;
          if (!transientError || closed) {
            future.completeExceptionally(e);
            return;
          }
          log.debug("waiting for run {}: {}; retrying", runId, e.getMessage());
          try {
            Thread.sleep(backoff.next());
          } catch (InterruptedException ie) {
            future.completeExceptionally(ie);
            return;
          }
        } catch (RuntimeException e) {
          future.completeExceptionally(e);
          return;
        }
      }
    });
    return future;
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DroverException(DroverException.Code.OTHER, "interrupted while waiting for a run", e);
    }
  }

  /**
   * A trigger call, retried while the server is unreachable (restart, failover, database outage:
   * UNAVAILABLE) until the call timeout is spent. Safe because every trigger carries its client-chosen
   * run id: a retry of a trigger the server did commit returns that run instead of creating another.
   */
  private <T> T retryingTrigger(java.util.function.Function<Duration, T> rpc) {
    long deadline = System.nanoTime() + transport.callTimeout().toNanos();
    Backoff backoff = new Backoff(50, 1_000, 0.5);
    DroverException lastUnavailable = null;
    while (true) {
      Duration remaining = Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
      try {
        return rpc.apply(remaining);
      } catch (StatusRuntimeException e) {
        DroverException de = Protos.toDroverException(e);
        if (de.code() == DroverException.Code.DEADLINE_EXCEEDED && lastUnavailable != null) {
          // The time ran out while the server was unreachable: say so, not "deadline exceeded".
          throw new DroverException(DroverException.Code.UNAVAILABLE, "server unavailable for "
              + transport.callTimeout().toSeconds() + " s: " + lastUnavailable.getMessage(), e);
        }
        if (de.code() != DroverException.Code.UNAVAILABLE || closed || System.nanoTime() >= deadline) {
          throw de;
        }
        lastUnavailable = de;
        log.debug("trigger failed ({}); retrying", de.getMessage());
        sleepQuietly(Math.min(backoff.next(), Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      }
    }
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw Protos.toDroverException(e);
    }
  }

  // ---- events ----

  /**
   * Pushes an event: the server stores it and, in the same transaction, starts every workflow
   * listening to it ({@link OnEvent}). Safe to retry: the event id is chosen here, and the call is
   * retried while the server is unreachable within the call timeout, so it is stored at most once.
   *
   * <pre>{@code
   * PushResult r = client.push("order.paid", Map.of("orderId", "o-1", "total", 150));
   * }</pre>
   *
   * @param payload any Jackson-serializable value ({@code null} means {@code {}})
   * @throws IllegalArgumentException when {@code payload} cannot be serialized
   * @throws DroverException when the server refuses the event
   */
  public PushResult push(String name, Object payload) {
    return push(EventRequest.of(name, payload));
  }

  /**
   * Pushes an event with metadata and an optional idempotency key; a push repeating a stored key
   * returns that event with {@code created=false} and starts nothing.
   *
   * <pre>{@code
   * client.push(EventRequest.of("order.paid", paid).withIdempotencyKey("paid-" + paid.orderId()));
   * }</pre>
   */
  public PushResult push(EventRequest event) {
    Objects.requireNonNull(event, "event");
    dev.drover.proto.v1.PushEventRequest req = pushRequest(event, "payload of event '" + event.name() + "'");
    // Concurrent pushes share batch calls like triggers do; one with an idempotency key goes alone.
    dev.drover.proto.v1.PushEventResponse resp = req.getIdempotencyKey().isEmpty()
        ? pushes.call(req)
        : retryingTrigger(deadline -> transport.events(deadline).pushEvent(req));
    return toPushResult(resp);
  }

  /**
   * Pushes up to 10,000 events in one call and one transaction: all are stored with their runs, or
   * none (an invalid item fails the call with a {@link DroverException} naming it, e.g.
   * {@code events[17].payload_json}). Retried like {@link #push(EventRequest)}.
   *
   * <pre>{@code
   * List<PushResult> results = client.pushMany(orders.stream()
   *     .map(o -> EventRequest.of("order.paid", o)).toList());
   * }</pre>
   */
  public List<PushResult> pushMany(List<EventRequest> events) {
    Objects.requireNonNull(events, "events");
    dev.drover.proto.v1.PushEventsRequest.Builder batch = dev.drover.proto.v1.PushEventsRequest.newBuilder();
    for (int i = 0; i < events.size(); i++) {
      batch.addEvents(pushRequest(Objects.requireNonNull(events.get(i), "events[" + i + "]"), "payload of events[" + i + "]"));
    }
    dev.drover.proto.v1.PushEventsRequest req = batch.build();
    dev.drover.proto.v1.PushEventsResponse resp = retryingTrigger(deadline -> transport.events(deadline).pushEvents(req));
    List<PushResult> out = new ArrayList<>(resp.getEventsCount());
    for (dev.drover.proto.v1.PushEventResponse r : resp.getEventsList()) {
      out.add(toPushResult(r));
    }
    return out;
  }

  /** The event with its payload, metadata and every run it started (replays included). */
  public EventInfo getEvent(String eventId) {
    Objects.requireNonNull(eventId, "eventId");
    dev.drover.proto.v1.GetEventRequest req = dev.drover.proto.v1.GetEventRequest.newBuilder().setEventId(eventId).build();
    return call(() -> toEventInfo(transport.events(transport.callTimeout()).getEvent(req)));
  }

  /**
   * Recent events, newest first, without their runs.
   *
   * <pre>{@code
   * List<EventInfo> paid = client.listEvents("order.*", null, 100);
   * }</pre>
   *
   * @param name an exact name or a wildcard ({@code "order.*"}), or {@code null} for all
   * @param beforeEventId page backwards from this event (exclusive), or {@code null}
   * @param limit maximum number (0 = server default of 50; at most 1000)
   */
  public List<EventInfo> listEvents(String name, String beforeEventId, int limit) {
    dev.drover.proto.v1.ListEventsRequest req = dev.drover.proto.v1.ListEventsRequest.newBuilder()
        .setName(name == null ? "" : name)
        .setBeforeEventId(beforeEventId == null ? "" : beforeEventId)
        .setLimit(Math.max(0, limit))
        .build();
    return call(() -> transport.events(transport.callTimeout()).listEvents(req).getEventsList().stream()
        .map(DroverClient::toEventInfo).toList());
  }

  /**
   * Starts the workflows listening to the event now again (after a fix, say), with new runs linked
   * to the original event; returns the new runs' ids. Not retried: each call starts new runs.
   */
  public List<String> replayEvent(String eventId) {
    Objects.requireNonNull(eventId, "eventId");
    dev.drover.proto.v1.ReplayEventRequest req = dev.drover.proto.v1.ReplayEventRequest.newBuilder().setEventId(eventId).build();
    return call(() -> List.copyOf(transport.events(transport.callTimeout()).replayEvent(req).getRunIdsList()));
  }

  private static dev.drover.proto.v1.PushEventRequest pushRequest(EventRequest e, String what) {
    dev.drover.proto.v1.PushEventRequest.Builder b = dev.drover.proto.v1.PushEventRequest.newBuilder()
        .setName(e.name())
        .setPayloadJson(e.payload() == null ? "" : Json.write(e.payload(), what))
        .putAllMetadata(e.metadata())
        // Chosen here so that retrying this very request can never store the event twice.
        .setEventId(dev.drover.sdk.internal.RunIds.next());
    if (e.idempotencyKey() != null) {
      b.setIdempotencyKey(e.idempotencyKey());
    }
    return b.build();
  }

  private static PushResult toPushResult(dev.drover.proto.v1.PushEventResponse r) {
    return new PushResult(r.getEventId(), r.getCreated(), r.getRunIdsList());
  }

  private static EventInfo toEventInfo(dev.drover.proto.v1.Event e) {
    return new EventInfo(e.getId(), e.getName(), e.getPayloadJson(), e.getMetadataMap(),
        e.getIdempotencyKey().isEmpty() ? null : e.getIdempotencyKey(),
        e.getCreatedAtMs() == 0 ? null : java.time.Instant.ofEpochMilli(e.getCreatedAtMs()), e.getRunIdsList());
  }

  // ---- schedules ----

  /**
   * Creates a cron at run time (crons can also be declared on the workflow class with {@link Cron}).
   *
   * <pre>{@code
   * CronInfo c = client.createCron(CronRequest.of("report", "0 7 * * MON-FRI").withTimeZone("Europe/Berlin"));
   * }</pre>
   *
   * @throws DroverException INVALID_ARGUMENT naming the field (expression, time_zone, ...), NOT_FOUND
   *     for an unknown workflow, FAILED_PRECONDITION when the workflow has a cron of that name
   */
  public CronInfo createCron(CronRequest request) {
    Objects.requireNonNull(request, "request");
    dev.drover.proto.v1.CreateCronRequest.Builder req = dev.drover.proto.v1.CreateCronRequest.newBuilder()
        .setWorkflowName(request.workflowName())
        .setExpression(request.expression())
        .setInputJson(request.input() == null ? "" : Json.write(request.input(), "input of the cron"))
        .putAllMetadata(request.metadata())
        .setMissedTicks(request.missedTicks().wireName())
        .setPaused(request.paused());
    if (request.timeZone() != null) {
      req.setTimeZone(request.timeZone());
    }
    if (request.name() != null) {
      req.setName(request.name());
    }
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toCronInfo(transport.schedules().createCron(req.build())));
  }

  /** Creates a cron in UTC with the default name and missed-tick policy. */
  public CronInfo createCron(String workflowName, String expression, Object input) {
    return createCron(CronRequest.of(workflowName, expression).withInput(input));
  }

  /** The crons of {@code workflowName} ({@code null} for every workflow), API-created and declared. */
  public List<CronInfo> listCrons(String workflowName) {
    dev.drover.proto.v1.ListCronsRequest req = dev.drover.proto.v1.ListCronsRequest.newBuilder()
        .setWorkflowName(workflowName == null ? "" : workflowName).build();
    return call(() -> transport.schedules().listCrons(req).getCronsList().stream()
        .map(dev.drover.sdk.internal.ScheduleProtos::toCronInfo).toList());
  }

  /** One cron by id. */
  public CronInfo getCron(String cronId) {
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toCronInfo(transport.schedules()
        .getCron(dev.drover.proto.v1.GetCronRequest.newBuilder().setCronId(cronId).build())));
  }

  /** Pauses a cron: it fires nothing until resumed. Pausing a paused cron does nothing. */
  public CronInfo pauseCron(String cronId) {
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toCronInfo(transport.schedules()
        .pauseCron(dev.drover.proto.v1.PauseCronRequest.newBuilder().setCronId(cronId).build())));
  }

  /** Resumes a cron from now: the ticks of the paused period are not fired. */
  public CronInfo resumeCron(String cronId) {
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toCronInfo(transport.schedules()
        .resumeCron(dev.drover.proto.v1.ResumeCronRequest.newBuilder().setCronId(cronId).build())));
  }

  /**
   * Deletes a cron created through the API. A cron declared with {@link Cron} fails with
   * FAILED_PRECONDITION: remove the annotation, or pause it.
   */
  public void deleteCron(String cronId) {
    call(() -> transport.schedules()
        .deleteCron(dev.drover.proto.v1.DeleteCronRequest.newBuilder().setCronId(cronId).build()));
  }

  /**
   * Runs {@code workflowName} once with {@code input} at {@code at} (an instant in the past fires at
   * once). The server's database clock decides when the instant has come, never this machine's.
   *
   * <pre>{@code
   * ScheduleInfo s = client.schedule("reminder", Map.of("user", "u-1"), Instant.now().plus(Duration.ofDays(3)));
   * }</pre>
   */
  public ScheduleInfo schedule(String workflowName, Object input, java.time.Instant at) {
    return schedule(workflowName, input, at, java.util.Map.of());
  }

  /** Like {@link #schedule(String, Object, java.time.Instant)}, with metadata for the run. */
  public ScheduleInfo schedule(String workflowName, Object input, java.time.Instant at, java.util.Map<String, String> metadata) {
    Objects.requireNonNull(at, "at");
    return createSchedule(workflowName, input, metadata, at.toEpochMilli(), 0);
  }

  /** Runs {@code workflowName} once after {@code delay}, counted on the server's database clock. */
  public ScheduleInfo schedule(String workflowName, Object input, Duration delay) {
    return schedule(workflowName, input, delay, java.util.Map.of());
  }

  /** Like {@link #schedule(String, Object, Duration)}, with metadata for the run. */
  public ScheduleInfo schedule(String workflowName, Object input, Duration delay, java.util.Map<String, String> metadata) {
    Objects.requireNonNull(delay, "delay");
    return createSchedule(workflowName, input, metadata, 0, Math.max(1, delay.toMillis()));
  }

  private ScheduleInfo createSchedule(String workflowName, Object input, java.util.Map<String, String> metadata, long atMs, long delayMs) {
    Objects.requireNonNull(workflowName, "workflowName");
    dev.drover.proto.v1.CreateScheduleRequest req = dev.drover.proto.v1.CreateScheduleRequest.newBuilder()
        .setWorkflowName(workflowName)
        .setInputJson(input == null ? "" : Json.write(input, "input of the schedule"))
        .putAllMetadata(metadata == null ? java.util.Map.of() : metadata)
        .setFireAtMs(atMs)
        .setDelayMs(delayMs)
        // Chosen here, like a run id, so that retrying this very request can never create a second schedule.
        .setScheduleId(dev.drover.sdk.internal.RunIds.next())
        .build();
    return dev.drover.sdk.internal.ScheduleProtos.toScheduleInfo(
        retryingTrigger(deadline -> transport.schedules(deadline).createSchedule(req)));
  }

  /**
   * One-time schedules, soonest first.
   *
   * @param workflowName filter, or {@code null} for all
   * @param status filter, or {@code null} for all
   * @param limit maximum number (0 = server default of 100; at most 1000)
   */
  public List<ScheduleInfo> listSchedules(String workflowName, ScheduleStatus status, int limit) {
    dev.drover.proto.v1.ListSchedulesRequest req = dev.drover.proto.v1.ListSchedulesRequest.newBuilder()
        .setWorkflowName(workflowName == null ? "" : workflowName)
        .setStatus(dev.drover.sdk.internal.ScheduleProtos.toProto(status))
        .setLimit(Math.max(0, limit))
        .build();
    return call(() -> transport.schedules().listSchedules(req).getSchedulesList().stream()
        .map(dev.drover.sdk.internal.ScheduleProtos::toScheduleInfo).toList());
  }

  /** One schedule by id; once fired, {@link ScheduleInfo#runId()} is its run. */
  public ScheduleInfo getSchedule(String scheduleId) {
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toScheduleInfo(transport.schedules()
        .getSchedule(dev.drover.proto.v1.GetScheduleRequest.newBuilder().setScheduleId(scheduleId).build())));
  }

  /** Moves a schedule that has not fired yet; FAILED_PRECONDITION once it fired or was deleted. */
  public ScheduleInfo reschedule(String scheduleId, java.time.Instant at) {
    Objects.requireNonNull(at, "at");
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toScheduleInfo(transport.schedules()
        .rescheduleSchedule(dev.drover.proto.v1.RescheduleScheduleRequest.newBuilder()
            .setScheduleId(scheduleId).setFireAtMs(at.toEpochMilli()).build())));
  }

  /** Moves a schedule that has not fired yet to {@code delay} from now on the server's database clock. */
  public ScheduleInfo reschedule(String scheduleId, Duration delay) {
    Objects.requireNonNull(delay, "delay");
    return call(() -> dev.drover.sdk.internal.ScheduleProtos.toScheduleInfo(transport.schedules()
        .rescheduleSchedule(dev.drover.proto.v1.RescheduleScheduleRequest.newBuilder()
            .setScheduleId(scheduleId).setDelayMs(Math.max(1, delay.toMillis())).build())));
  }

  /** Cancels a schedule that has not fired yet (it stays listed as CANCELLED). */
  public void deleteSchedule(String scheduleId) {
    call(() -> transport.schedules()
        .deleteSchedule(dev.drover.proto.v1.DeleteScheduleRequest.newBuilder().setScheduleId(scheduleId).build()));
  }

  // ---- workers ----

  /**
   * The workers registered with the server, ordered by name, with their labels, slot use and state.
   *
   * <pre>{@code
   * client.listWorkers().forEach(w -> System.out.println(w.name() + " " + w.state() + " " + w.inFlight()));
   * }</pre>
   */
  public List<WorkerInfo> listWorkers() {
    return call(() -> transport.workerAdmin(transport.callTimeout())
        .listWorkers(dev.drover.proto.v1.ListWorkersRequest.getDefaultInstance())
        .getWorkersList().stream().map(DroverClient::toWorkerInfo).toList());
  }

  /**
   * Pauses a worker: it gets no new work, from any server replica, until resumed; the attempts it is
   * running finish. The state is kept while the worker reconnects.
   *
   * @throws DroverException NOT_FOUND for an unknown worker id
   */
  public WorkerInfo pauseWorker(String workerId) {
    Objects.requireNonNull(workerId, "workerId");
    return call(() -> toWorkerInfo(transport.workerAdmin(transport.callTimeout())
        .pauseWorker(dev.drover.proto.v1.PauseWorkerRequest.newBuilder().setWorkerId(workerId).build())));
  }

  /** Lets a paused or draining worker take work again. */
  public WorkerInfo resumeWorker(String workerId) {
    Objects.requireNonNull(workerId, "workerId");
    return call(() -> toWorkerInfo(transport.workerAdmin(transport.callTimeout())
        .resumeWorker(dev.drover.proto.v1.ResumeWorkerRequest.newBuilder().setWorkerId(workerId).build())));
  }

  /**
   * Drains a worker: paused as {@link WorkerInfo.State#DRAINING}, and {@link WorkerInfo#drained()}
   * once its in-flight attempts all ended. Returns at once; see {@link #drainWorker(String, Duration)}
   * to wait. The worker process is not stopped: stop it once drained (or resume it).
   */
  public WorkerInfo drainWorker(String workerId) {
    return drainWorker(workerId, Duration.ZERO);
  }

  /**
   * Drains a worker and waits up to {@code wait} (at most 5 minutes) for it to be drained.
   *
   * <pre>{@code
   * WorkerInfo w = client.drainWorker(id, Duration.ofMinutes(2));
   * if (!w.drained()) log.warn("{} still runs {} steps", w.name(), w.inFlight());
   * }</pre>
   */
  public WorkerInfo drainWorker(String workerId, Duration wait) {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(wait, "wait");
    dev.drover.proto.v1.DrainWorkerRequest req = dev.drover.proto.v1.DrainWorkerRequest.newBuilder()
        .setWorkerId(workerId).setWaitMs(Math.max(0, wait.toMillis())).build();
    return call(() -> toWorkerInfo(transport.workerAdmin(transport.callTimeout().plus(wait)).drainWorker(req)));
  }

  private static WorkerInfo toWorkerInfo(dev.drover.proto.v1.RegisteredWorker w) {
    WorkerInfo.State state = switch (w.getState()) {
      case WORKER_STATE_PAUSED -> WorkerInfo.State.PAUSED;
      case WORKER_STATE_DRAINING -> WorkerInfo.State.DRAINING;
      default -> WorkerInfo.State.ACTIVE;
    };
    return new WorkerInfo(w.getWorkerId(), w.getName(), w.getLabelsMap(), w.getSlots(),
        w.getUsedSlots(), w.getInFlight(), state, w.getDrained(), w.getAlive(),
        w.getLastHeartbeatMs() == 0 ? null : Instant.ofEpochMilli(w.getLastHeartbeatMs()),
        w.getRegisteredAtMs() == 0 ? null : Instant.ofEpochMilli(w.getRegisteredAtMs()), w.getActionsList(), w.getSdk());
  }

  // ---- rate limits ----

  /**
   * Creates a rate limit, or changes its capacity or window (from the next step handed out). Windows
   * are fixed and aligned to the epoch on the server's database clock: {@code Duration.ofMinutes(1)}
   * runs from hh:mm:00 to hh:mm:59.999 UTC.
   *
   * <pre>{@code
   * client.putRateLimit("stripe", 100, Duration.ofSeconds(1));
   * }</pre>
   *
   * @param capacity units per window, at least 1
   * @param window from 100 ms to 31 days
   * @throws DroverException INVALID_ARGUMENT naming the field (name, capacity, window_ms)
   */
  public RateLimitInfo putRateLimit(String name, int capacity, Duration window) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(window, "window");
    dev.drover.proto.v1.PutRateLimitRequest req = dev.drover.proto.v1.PutRateLimitRequest.newBuilder()
        .setName(name).setCapacity(capacity).setWindowMs(window.toMillis()).build();
    return call(() -> toRateLimitInfo(transport.rateLimits().putRateLimit(req)));
  }

  /** One rate limit with its global bucket, its 20 busiest keys of the current window and its paused keys. */
  public RateLimitInfo getRateLimit(String name) {
    return getRateLimit(name, 0);
  }

  /**
   * One rate limit with its global bucket, its {@code top} busiest keys (0 = 20, at most 1000) and
   * its paused keys.
   *
   * @throws DroverException NOT_FOUND when there is no such limit
   */
  public RateLimitInfo getRateLimit(String name, int top) {
    Objects.requireNonNull(name, "name");
    dev.drover.proto.v1.GetRateLimitRequest req = dev.drover.proto.v1.GetRateLimitRequest.newBuilder()
        .setName(name).setTop(Math.max(0, top)).build();
    return call(() -> toRateLimitInfo(transport.rateLimits().getRateLimit(req)));
  }

  /** Every rate limit, by name, with the usage of its global bucket. */
  public List<RateLimitInfo> listRateLimits() {
    return call(() -> transport.rateLimits()
        .listRateLimits(dev.drover.proto.v1.ListRateLimitsRequest.getDefaultInstance())
        .getLimitsList().stream().map(DroverClient::toRateLimitInfo).toList());
  }

  /**
   * Deletes a rate limit. Steps that name it then wait in the queue until it is created again (to
   * stop limiting, raise the capacity instead).
   *
   * @throws DroverException NOT_FOUND when there is no such limit
   */
  public void deleteRateLimit(String name) {
    Objects.requireNonNull(name, "name");
    call(() -> transport.rateLimits().deleteRateLimit(
        dev.drover.proto.v1.DeleteRateLimitRequest.newBuilder().setName(name).build()));
  }

  /**
   * Pauses one key of a rate limit: no step draws from it until {@code duration} has passed on the
   * server's clock. A longer pause already in place is kept; {@code Duration.ZERO} lifts the pause.
   * From inside a step, {@link StepContext#rateLimited} does the same.
   *
   * <pre>{@code
   * client.pauseRateLimitKey("stripe-per-customer", "c-42", Duration.ofMinutes(5)); // "" = the global bucket
   * }</pre>
   *
   * @throws DroverException NOT_FOUND when there is no such limit
   */
  public RateLimitBucket pauseRateLimitKey(String name, String key, Duration duration) {
    return pauseRateLimitKey(name, key, duration, null);
  }

  /** {@link #pauseRateLimitKey(String, String, Duration)} with a reason shown next to the paused key. */
  public RateLimitBucket pauseRateLimitKey(String name, String key, Duration duration, String reason) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative, got " + duration);
    }
    dev.drover.proto.v1.PauseRateLimitKeyRequest req = dev.drover.proto.v1.PauseRateLimitKeyRequest.newBuilder()
        .setName(name).setKey(key == null ? "" : key).setDurationMs(duration.toMillis())
        .setReason(reason == null ? "" : reason).build();
    // Safe to repeat (a pause only ever extends), so ride out a server restart like a trigger does.
    return toRateLimitBucket(retryingTrigger(remaining -> transport.rateLimits().pauseRateLimitKey(req)));
  }

  /** For {@link StepContext#rateLimited}: the worker's steps pause keys through their client. */
  void pauseForStep(String name, String key, Duration duration, String reason) {
    pauseRateLimitKey(name, key, duration, reason);
  }

  private static RateLimitInfo toRateLimitInfo(dev.drover.proto.v1.RateLimit l) {
    return new RateLimitInfo(l.getName(), l.getCapacity(), Duration.ofMillis(l.getWindowMs()),
        Instant.ofEpochMilli(l.getCreatedAtMs()), Instant.ofEpochMilli(l.getUpdatedAtMs()),
        Instant.ofEpochMilli(l.getWindowStartMs()), l.getActiveKeys(), l.getPausedKeys(),
        l.getBucketsList().stream().map(DroverClient::toRateLimitBucket).toList());
  }

  private static RateLimitBucket toRateLimitBucket(dev.drover.proto.v1.RateLimitBucket b) {
    return new RateLimitBucket(b.getLimitName(), b.getKey(), b.getUsed(), b.getRemaining(),
        b.getPausedUntilMs() == 0 ? null : Instant.ofEpochMilli(b.getPausedUntilMs()),
        b.getPauseReason().isEmpty() ? null : b.getPauseReason());
  }
}
