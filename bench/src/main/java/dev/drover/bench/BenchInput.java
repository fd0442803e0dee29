package dev.drover.bench;

/**
 * The input of every benchmark run. The trigger and the step run in the same JVM, so
 * {@code System.nanoTime()} values agree.
 *
 * @param p the phase the run belongs to ({@link Probe.Phase#id()}); runs of another phase are ignored
 * @param i sequence number within the phase
 * @param t {@code System.nanoTime()} just before the trigger call (for a bulk call: before the call
 *     that carried it)
 * @param s the intended send time of an open-loop generator ({@code System.nanoTime()} scale), or 0
 */
public record BenchInput(int p, long i, long t, long s) {
  /** The same value as JSON text, cheaper than Jackson for single triggers. */
  public String json() {
    return "{\"p\":" + p + ",\"i\":" + i + ",\"t\":" + t + ",\"s\":" + s + "}";
  }
}
