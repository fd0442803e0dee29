package dev.drover.sdk;

import dev.drover.sdk.internal.Definitions;
import dev.drover.sdk.internal.WorkerRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configures and starts a {@link Worker}. Workflow classes are validated by {@link
 * #register(Object)}, so a bad annotation fails at startup with a clear message.
 *
 * <pre>{@code
 * Worker worker = client.newWorker("orders")
 *     .register(new OrderWorkflow(payments))
 *     .slots(20)
 *     .label("region", "eu")
 *     .start();
 * }</pre>
 */
public final class WorkerBuilder {
  private final DroverClient client;
  private final String name;
  private final List<WorkerRuntime.Registration> workflows = new ArrayList<>();
  private final Map<String, String> labels = new LinkedHashMap<>();
  private int slots = 100;
  private Duration heartbeatInterval;

  WorkerBuilder(DroverClient client, String name) {
    this.client = client;
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("worker name must not be empty");
    }
    this.name = name;
  }

  /**
   * Adds a workflow implementation: an instance of a class annotated with {@link Workflow} whose
   * {@link Step} methods this worker will run.
   *
   * @throws IllegalArgumentException when the class is not a valid workflow or is already registered
   */
  public WorkerBuilder register(Object workflowInstance) {
    Objects.requireNonNull(workflowInstance, "workflowInstance");
    WorkerRuntime.Registration r =
        new WorkerRuntime.Registration(Definitions.fromClass(workflowInstance.getClass()), workflowInstance);
    for (WorkerRuntime.Registration existing : workflows) {
      if (existing.model().name().equals(r.model().name())) {
        throw new IllegalArgumentException(
            "workflow '" + r.model().name() + "' is already registered on worker '" + name + "'");
      }
    }
    workflows.add(r);
    return this;
  }

  /** Concurrent slot units this worker accepts (default 100). */
  public WorkerBuilder slots(int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be >= 1, got " + slots);
    }
    this.slots = slots;
    return this;
  }

  /**
   * Adds a label, e.g. {@code label("gpu", "true")}: steps' {@link Affinity} requires or prefers
   * workers by their labels.
   */
  public WorkerBuilder label(String key, String value) {
    labels.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /** Overrides the heartbeat interval the server suggests at registration. */
  public WorkerBuilder heartbeatInterval(Duration interval) {
    if (interval == null || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("heartbeatInterval must be positive");
    }
    this.heartbeatInterval = interval;
    return this;
  }

  /**
   * Registers with the server and starts taking work. Blocks until the first registration
   * succeeds.
   *
   * @throws DroverException when the server refuses the registration (bad token, invalid
   *     definition) or stays unreachable for about 10 seconds
   */
  public Worker start() {
    WorkerRuntime runtime =
        new WorkerRuntime(
            client.transport(),
            new WorkerRuntime.Config(name, workflows, slots, labels, heartbeatInterval));
    runtime.spawner(client::spawnChildren);
    runtime.keyPauser(client::pauseForStep);
    runtime.start();
    Worker[] self = new Worker[1];
    self[0] = new Worker(runtime, () -> client.forget(self[0]));
    client.track(self[0]);
    return self[0];
  }
}
