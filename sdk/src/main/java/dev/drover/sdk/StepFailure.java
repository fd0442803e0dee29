package dev.drover.sdk;

/**
 * What an on-failure step is told about the failure of its run.
 *
 * <pre>{@code
 * @Step(onFailure = true)
 * public void alert(StepContext ctx) {
 *   StepFailure f = ctx.failure();
 *   pager.send(ctx.runId() + " failed at " + f.failedStep() + ": " + f.error());
 * }
 * }</pre>
 *
 * @param failedStep the step that failed (or {@code null} when the run failed otherwise)
 * @param error its last error message
 * @param attempts attempts the failed step made
 */
public record StepFailure(String failedStep, String error, int attempts) {}
