package dev.drover.sdk;

/**
 * Sticky runs ({@link Workflow#sticky()}): the steps of a run go to the worker that ran its first
 * step, for instance to reuse a local cache, a checked-out repository or a loaded model.
 *
 * <pre>{@code
 * @Workflow(name = "build", sticky = Sticky.HARD)
 * public class Build {
 *   @Step public Path checkout(Repo r) { ... }            // any worker
 *   @Step(parents = "checkout") public void test(...) { ... } // the worker that checked out
 * }
 * }</pre>
 *
 * <p>A replay of a run starts afresh: the first step it runs picks the run's worker again.
 */
public enum Sticky {
  /** No stickiness: every step goes to any worker that can run it. */
  NONE,
  /**
   * Later steps prefer the run's worker: they wait for it about a second, then go to any worker; at
   * once when the run's worker is paused, draining or not heartbeating.
   */
  SOFT,
  /**
   * Later steps run only on the run's worker. If it is gone they wait for it (it keeps its id across
   * reconnects, not across a restart of its process) and fail by their schedule-to-start timeout if
   * one is set.
   */
  HARD;

  /** The wire name ({@code ""}, {@code "soft"} or {@code "hard"}). */
  public String wireName() {
    return this == NONE ? "" : name().toLowerCase(java.util.Locale.ROOT);
  }
}
