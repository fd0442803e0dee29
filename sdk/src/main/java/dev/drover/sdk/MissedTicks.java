package dev.drover.sdk;

/**
 * What a cron does with ticks that passed while no server was running (or none could reach the
 * database). Ticks only a few seconds late, after a short restart, are always fired.
 *
 * <pre>{@code
 * client.createCron(CronRequest.of("sync", "0 * * * *").withMissedTicks(MissedTicks.SKIP));
 * }</pre>
 */
public enum MissedTicks {
  /** One run, for the latest missed tick, on recovery; never a burst. The default. */
  FIRE_ONCE,
  /** No run for missed ticks: wait for the next one. */
  SKIP;

  /** The protocol's name ({@code fire_once}, {@code skip}). */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses a protocol name; unknown or empty gives {@link #FIRE_ONCE}. */
  public static MissedTicks fromWire(String s) {
    return "skip".equals(s) ? SKIP : FIRE_ONCE;
  }
}
