package dev.drover.sdk.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drover.proto.v1.StartStep;
import dev.drover.sdk.NonRetryableException;
import dev.drover.sdk.StepCancelledException;
import dev.drover.sdk.StepContext;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link StepContext} of one attempt, backed by its {@code StartStep} assignment. JSON trees
 * are parsed lazily because most steps bind their input as a typed parameter instead.
 *
 * <pre>{@code
 * StepContext ctx = new StepContextImpl(start, attempt);
 * }</pre>
 */
final class StepContextImpl implements StepContext {
  private final StartStep start;
  private final WorkerRuntime.Attempt attempt;
  private volatile JsonNode inputTree;
  private volatile Map<String, JsonNode> parentTrees;
  private volatile Logger logger;
  private final Spawner spawner;
  private final KeyPauser pauser;
  private final java.util.concurrent.atomic.AtomicInteger nextChild = new java.util.concurrent.atomic.AtomicInteger();
  private volatile JsonNode contextTree;

  StepContextImpl(StartStep start, WorkerRuntime.Attempt attempt) {
    this(start, attempt, null);
  }

  StepContextImpl(StartStep start, WorkerRuntime.Attempt attempt, Spawner spawner) {
    this(start, attempt, spawner, null);
  }

  StepContextImpl(StartStep start, WorkerRuntime.Attempt attempt, Spawner spawner, KeyPauser pauser) {
    this.start = start;
    this.attempt = attempt;
    this.spawner = spawner;
    this.pauser = pauser;
  }

  @Override
  public void rateLimited(String limitName, String key, java.time.Duration pauseFor) {
    java.util.Objects.requireNonNull(limitName, "limitName");
    java.util.Objects.requireNonNull(pauseFor, "pauseFor");
    if (pauseFor.isNegative()) {
      throw new IllegalArgumentException("pauseFor must not be negative, got " + pauseFor);
    }
    if (pauser == null) {
      throw new IllegalStateException("this worker cannot pause rate limit keys (no client connection)");
    }
    // A pause shorter than a millisecond would read as "lift the pause" on the server.
    java.time.Duration d = pauseFor.isZero() || pauseFor.toMillis() > 0 ? pauseFor : java.time.Duration.ofMillis(1);
    pauser.pause(limitName, key == null ? "" : key, d,
        "step '" + stepName() + "' of run " + runId() + " (attempt " + attempt() + ") was rate limited");
  }

  @Override
  public dev.drover.sdk.RunHandle spawn(String workflowName, Object input) {
    return spawnMany(workflowName, java.util.Collections.singletonList(input)).get(0);
  }

  @Override
  public dev.drover.sdk.RunHandle spawn(Class<?> workflowClass, Object input) {
    return spawn(Definitions.workflowName(workflowClass), input);
  }

  @Override
  public java.util.List<dev.drover.sdk.RunHandle> spawnMany(String workflowName, java.util.List<?> inputs) {
    java.util.Objects.requireNonNull(workflowName, "workflowName");
    if (spawner == null) {
      throw new IllegalStateException("this worker cannot spawn child runs (no client connection)");
    }
    java.util.List<dev.drover.sdk.RunHandle> out = new java.util.ArrayList<>(inputs.size());
    for (int from = 0; from < inputs.size(); from += 10_000) {
      java.util.List<?> chunk = inputs.subList(from, Math.min(inputs.size(), from + 10_000));
      java.util.List<String> json = new java.util.ArrayList<>(chunk.size());
      for (Object in : chunk) {
        json.add(in == null ? "" : Json.write(in, "input of a child run of '" + workflowName + "'"));
      }
      // Indexes are taken before the call: a failed call leaves a gap, never a reuse.
      int first = nextChild.getAndAdd(chunk.size());
      out.addAll(spawner.spawn(runId(), stepName(), first, workflowName, json));
    }
    return out;
  }

  private JsonNode context() {
    JsonNode c = contextTree;
    if (c == null) {
      c = start.getContextJson().isEmpty()
          ? com.fasterxml.jackson.databind.node.NullNode.getInstance()
          : Json.tree(start.getContextJson(), "context of step '" + stepName() + "'");
      contextTree = c;
    }
    return c;
  }

  @Override
  public <T> T event(Class<T> type) {
    JsonNode e = context().get("event");
    if (e == null) {
      return null;
    }
    try {
      return Json.read(e.toString(), type, "event received by step '" + stepName() + "'");
    } catch (IllegalArgumentException ex) {
      throw new NonRetryableException(ex.getMessage(), ex);
    }
  }

  @Override
  public dev.drover.sdk.StepFailure failure() {
    JsonNode c = context();
    if (!c.has("failedStep") && !c.has("error")) {
      return null;
    }
    JsonNode step = c.get("failedStep");
    JsonNode error = c.get("error");
    return new dev.drover.sdk.StepFailure(
        step == null || step.isNull() ? null : step.asText(),
        error == null || error.isNull() ? null : error.asText(),
        c.path("attempts").asInt());
  }

  @Override
  public java.util.List<dev.drover.sdk.RateLimitGrant> rateLimitGrants() {
    return start.getRateLimitGrantsList().stream()
        .map(g -> new dev.drover.sdk.RateLimitGrant(g.getLimitName(), g.getKey(), g.getUnits(),
            java.time.Instant.ofEpochMilli(g.getWindowStartMs()), java.time.Duration.ofMillis(g.getWindowMs())))
        .toList();
  }

  @Override
  public String runId() {
    return start.getRunId();
  }

  @Override
  public String stepName() {
    return start.getStepName();
  }

  @Override
  public String workflowName() {
    return start.getWorkflowName();
  }

  @Override
  public int attempt() {
    return start.getAttempt();
  }

  @Override
  public int maxAttempts() {
    return Math.max(1, start.getMaxAttempts());
  }

  @Override
  public Map<String, String> metadata() {
    return start.getMetadataMap();
  }

  @Override
  public <T> T input(Class<T> type) {
    try {
      return Json.read(start.getInputJson(), type, "input of run " + runId());
    } catch (IllegalArgumentException e) {
      // The same JSON will not deserialize on a retry either.
      throw new NonRetryableException(e.getMessage(), e);
    }
  }

  @Override
  public <T> T parentOutput(String parentName, Class<T> type) {
    String json = start.getParentOutputsJsonMap().get(parentName);
    if (json == null) {
      throw new IllegalArgumentException(
          "step '" + stepName() + "' has no parent '" + parentName + "' (parents with outputs: "
              + new TreeSet<>(start.getParentOutputsJsonMap().keySet()) + ")");
    }
    try {
      return Json.read(json, type, "output of parent step '" + parentName + "'");
    } catch (IllegalArgumentException e) {
      throw new NonRetryableException(e.getMessage(), e);
    }
  }

  @Override
  public JsonNode inputJson() {
    JsonNode t = inputTree;
    if (t == null) {
      t = Json.tree(start.getInputJson(), "input of run " + runId());
      inputTree = t;
    }
    return t;
  }

  @Override
  public Map<String, JsonNode> parentOutputs() {
    Map<String, JsonNode> m = parentTrees;
    if (m == null) {
      Map<String, JsonNode> built = new LinkedHashMap<>();
      start.getParentOutputsJsonMap()
          .forEach((k, v) -> built.put(k, Json.tree(v, "output of parent step '" + k + "'")));
      m = Collections.unmodifiableMap(built);
      parentTrees = m;
    }
    return m;
  }

  @Override
  public boolean isCancelled() {
    return attempt.cancelReason() != null;
  }

  @Override
  public void throwIfCancelled() {
    if (isCancelled()) {
      throw new StepCancelledException(
          "step '" + stepName() + "' of run " + runId() + " (attempt " + attempt() + ") stopped: "
              + attempt.cancelMessage());
    }
  }

  @Override
  public Logger log() {
    Logger l = logger;
    if (l == null) {
      l = LoggerFactory.getLogger("drover.step." + workflowName() + "." + stepName());
      logger = l;
    }
    return l;
  }
}
