package dev.drover.server.store;

import java.time.Instant;
import java.util.UUID;

/** The records the store reads and writes. Field names follow the columns. */
public final class Rows {
    private Rows() {}

    /** {@code started}: a root step goes straight to a worker in the same transaction (direct dispatch). */
    public record NewRun(UUID id, String tenantId, String workflowName, String workflowVersion, String inputJson,
                         String metadataJson, int priority, String idempotencyKey, int pendingSteps, boolean started) {}

    /** {@code workerId} non-null: the step starts running on that worker at once (status must be running). */
    public record NewStepRun(UUID runId, String stepName, String status, int pendingParents, UUID workerId) {}

    public record NewTask(String tenantId, UUID runId, String stepName, String workflowName, String workflowVersion,
                          int priority, int maxAttempts, int slotCost, long executionTimeoutMs,
                          long scheduleToStartTimeoutMs, UUID leasedTo) {
        /** The same task, leased at insert to a worker (direct dispatch). */
        public NewTask leasedTo(UUID workerId) {
            return new NewTask(tenantId, runId, stepName, workflowName, workflowVersion, priority, maxAttempts, slotCost,
                    executionTimeoutMs, scheduleToStartTimeoutMs, workerId);
        }

        public String action() {
            return workflowName + "/" + stepName;
        }
    }

    public record RunRow(UUID id, String tenantId, String workflowName, String workflowVersion, String status,
                         String inputJson, String outputJson, String error, String metadataJson, int priority,
                         String idempotencyKey, int pendingSteps, UUID parentRunId, Instant createdAt,
                         Instant startedAt, Instant finishedAt) {}

    public record StepRunRow(UUID runId, String stepName, String status, int pendingParents, int attempts,
                             String outputJson, String error, UUID workerId, Instant startedAt, Instant finishedAt) {}

    public record TaskRow(long id, String tenantId, UUID runId, String stepName, String workflowName,
                          String workflowVersion, int priority, String state, int attempt, int maxAttempts,
                          int slotCost, long executionTimeoutMs, UUID workerId) {}

    /** A failed, timed-out, cancelled or lost attempt, kept for people to read. */
    public record AttemptRow(UUID runId, String stepName, int attempt, String status, String error, String errorType,
                             String stackTrace, UUID workerId, Instant finishedAt) {}

    public record InsertedRun(UUID id, boolean created) {}

    public record RunKey(UUID runId, String stepName) {}

    public record RunInput(UUID runId, String inputJson, String metadataJson) {}
}
