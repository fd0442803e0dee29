package dev.drover.bench;

/** A bad option value or combination (the CLI exits with code 2). */
public final class BenchUsageException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** @param message names the option, e.g. {@code "--runs: must be at least 1"} */
  public BenchUsageException(String message) {
    super(message);
  }
}
