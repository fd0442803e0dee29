package dev.drover.server.engine;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What the engine shows of runs to the transports (which turn it into protobuf or JSON). */
public final class Views {
    private Views() {}

    public record RunView(String id, String workflowName, String workflowVersion, String status, String inputJson,
                          String outputJson, String error, Map<String, String> metadata, int priority,
                          String idempotencyKey, String parentRunId, Instant createdAt, Instant startedAt,
                          Instant finishedAt, List<StepView> steps, List<AttemptView> failedAttempts,
                          String parentStep, Integer childIndex, String eventId) {}

    public record StepView(String name, String status, int attempts, String outputJson, String error, String workerId,
                           Instant startedAt, Instant finishedAt, List<String> parents) {}

    public record AttemptView(String step, int attempt, String status, String error, String errorType,
                              String stackTrace, String workerId, Instant finishedAt) {}

    public record TriggerResult(String runId, boolean created) {}

    /**
     * A request to start a run. {@code inputJson} null or empty means {}; {@code version} empty means latest.
     */
    public record TriggerCommand(String tenantId, String workflowName, String version, String inputJson,
                                 Map<String, String> metadata, String idempotencyKey, int priority, String runId,
                                 Link link) {
        public TriggerCommand(String tenantId, String workflowName, String version, String inputJson,
                              Map<String, String> metadata, String idempotencyKey, int priority, String runId) {
            this(tenantId, workflowName, version, inputJson, metadata, idempotencyKey, priority, runId, Link.NONE);
        }

        public TriggerCommand(String tenantId, String workflowName, String version, String inputJson,
                              Map<String, String> metadata, String idempotencyKey, int priority) {
            this(tenantId, workflowName, version, inputJson, metadata, idempotencyKey, priority, null, Link.NONE);
        }

        public TriggerCommand withLink(Link l) {
            return new TriggerCommand(tenantId, workflowName, version, inputJson, metadata, idempotencyKey, priority, runId, l);
        }
    }

    /**
     * Where a run came from, besides a plain trigger: a parent step (child runs) or an event. Null fields
     * mean "not from there".
     */
    public record Link(String parentRunId, String parentStep, Integer childIndex, String eventId) {
        public static final Link NONE = new Link(null, null, null, null);

        public static Link event(String eventId) {
            return new Link(null, null, null, eventId);
        }
    }
}
