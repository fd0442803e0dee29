package dev.drover.bench.chaos;

/**
 * Input of every chaos workflow run.
 *
 * @param key the harness's idempotency key of the run (for reports)
 * @param flaky whether the flaky step fails its first attempt
 */
public record ChaosInput(String key, boolean flaky) {}
