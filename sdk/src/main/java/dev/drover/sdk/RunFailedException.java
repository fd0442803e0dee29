package dev.drover.sdk;

/**
 * Completes a {@link RunHandle#result(Class)} future when the run ended FAILED or CANCELLED.
 * The message is the run's error; {@link #run()} has the full state.
 *
 * <pre>{@code
 * handle.result(Receipt.class).exceptionally(t -> {
 *   if (t.getCause() instanceof RunFailedException f) log.warn("run {} failed: {}", f.run().id(), f.getMessage());
 *   return null;
 * });
 * }</pre>
 */
public class RunFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient RunInfo run;

  /** Creates the exception for a run in a final, unsuccessful state. */
  public RunFailedException(RunInfo run) {
    super(messageOf(run));
    this.run = run;
  }

  /** The run as it was when it finished. */
  public RunInfo run() {
    return run;
  }

  private static String messageOf(RunInfo run) {
    if (run.error() != null && !run.error().isEmpty()) {
      return run.error();
    }
    return "run " + run.id() + " ended " + run.status();
  }
}
