package dev.drover.server.store;

import java.time.Instant;
import java.util.UUID;

/** The records the store reads and writes. Field names follow the columns. */
public final class Rows {
    private Rows() {}

    /** {@code started}: a root step goes straight to a worker in the same transaction (direct dispatch). */
    /**
     * A run to insert. {@code parentRunId}/{@code parentStep}/{@code childIndex} are set for child runs,
     * {@code eventId} for runs started by an event; all null otherwise.
     */
    public record NewRun(UUID id, String tenantId, String workflowName, String workflowVersion, String inputJson,
                         String metadataJson, int priority, String idempotencyKey, int pendingSteps, boolean started,
                         UUID parentRunId, String parentStep, Integer childIndex, UUID eventId) {
        public NewRun asStarted() {
            return new NewRun(id, tenantId, workflowName, workflowVersion, inputJson, metadataJson, priority, idempotencyKey,
                    pendingSteps, true, parentRunId, parentStep, childIndex, eventId);
        }
    }

    /** {@code workerId} non-null: the step starts running on that worker at once (status must be running). */
    public record NewStepRun(UUID runId, String stepName, String status, int pendingParents, UUID workerId) {}

    public record NewTask(String tenantId, UUID runId, String stepName, String workflowName, String workflowVersion,
                          int priority, int maxAttempts, int slotCost, long executionTimeoutMs,
                          long scheduleToStartTimeoutMs, UUID leasedTo, int attemptBase, long rankAt,
                          TaskAffinity affinity) {
        public NewTask(String tenantId, UUID runId, String stepName, String workflowName, String workflowVersion,
                       int priority, int maxAttempts, int slotCost, long executionTimeoutMs,
                       long scheduleToStartTimeoutMs, UUID leasedTo) {
            this(tenantId, runId, stepName, workflowName, workflowVersion, priority, maxAttempts, slotCost, executionTimeoutMs,
                    scheduleToStartTimeoutMs, leasedTo, 0, 0, null);
        }

        /** The same task, leased at insert to a worker (direct dispatch). */
        public NewTask leasedTo(UUID workerId) {
            return new NewTask(tenantId, runId, stepName, workflowName, workflowVersion, priority, maxAttempts, slotCost,
                    executionTimeoutMs, scheduleToStartTimeoutMs, workerId, attemptBase, rankAt, affinity);
        }

        public String action() {
            return workflowName + "/" + stepName;
        }
    }

    /**
     * Who may claim a task, from its step and workflow (see V9__affinity.sql); null on a task without any.
     *
     * @param requiredJson  {"key": "value", ...} the worker's labels must contain, or null
     * @param preferredJson [{"key", "value", "weight"}, ...], or null
     * @param sticky        "soft", "hard" or null
     */
    public record TaskAffinity(String requiredJson, String preferredJson, String sticky) {}

    public record RunRow(UUID id, String tenantId, String workflowName, String workflowVersion, String status,
                         String inputJson, String outputJson, String error, String metadataJson, int priority,
                         String idempotencyKey, int pendingSteps, UUID parentRunId, String parentStep,
                         Integer childIndex, UUID eventId, Instant createdAt, Instant startedAt, Instant finishedAt) {}

    public record StepRunRow(UUID runId, String stepName, String status, int pendingParents, int attempts,
                             String outputJson, String error, UUID workerId, Instant startedAt, Instant finishedAt) {}

    public record TaskRow(long id, String tenantId, UUID runId, String stepName, String workflowName,
                          String workflowVersion, int priority, String state, int attempt, int maxAttempts,
                          int slotCost, long executionTimeoutMs, UUID workerId, Instant leasedAt) {
        /** When this attempt was handed out, in epoch ms (0 if not leased): the step's start time. */
        public long leasedAtMs() {
            return leasedAt == null ? 0 : leasedAt.toEpochMilli();
        }
    }

    /** A failed, timed-out, cancelled or lost attempt, kept for people to read. */
    public record AttemptRow(UUID runId, String stepName, int attempt, String status, String error, String errorType,
                             String stackTrace, UUID workerId, Instant finishedAt) {}

    public record InsertedRun(UUID id, boolean created) {}

    public record RunKey(UUID runId, String stepName) {}

    /** A step whose parents are all done, with the attempts it already used (non-zero after a replay). */
    public record ReadyStep(UUID runId, String stepName, int attempts) {}

    /** A wait that ended (slept out, event matched, or timed out), with what is needed to go on. */
    public record EndedWait(UUID runId, String stepName, String tenantId, String workflowName, String workflowVersion,
                            int priority, int attempts, String onTimeout) {}

    /** A wait for an event, armed and locked, with the data its match condition reads. */
    public record ArmedWait(UUID runId, String stepName, String match, String inputJson) {}

    public record RunInput(UUID runId, String inputJson, String metadataJson) {}
}
