package dev.drover.bench.chaos;

/**
 * Input of every chaos workflow run.
 *
 * @param key the harness's idempotency key of the run (for reports)
 * @param flaky whether the flaky step fails its first attempt
 * @param workMs extra milliseconds every step of the run works (0: 1-4 ms only)
 */
public record ChaosInput(String key, boolean flaky, int workMs) {}
