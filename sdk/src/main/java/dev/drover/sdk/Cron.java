package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Starts the annotated {@link Workflow} on a schedule. Repeatable: one workflow may have several
 * crons, each with its own input. The server fires each tick exactly once however many servers run,
 * and keeps the declared crons in step with the workflow each time a worker registers it (a cron
 * removed from the class is removed from the server).
 *
 * <p>The expression has 5 fields ({@code minute hour day-of-month month day-of-week}) or 6 with
 * seconds first; {@code @hourly}, {@code @daily}, {@code @weekly}, {@code @monthly} and
 * {@code @yearly} are accepted too. Times are in {@link #timeZone()}, with daylight saving time
 * handled: a time skipped by a spring-forward does not fire that day, one repeated in autumn fires once.
 *
 * <pre>{@code
 * @Workflow(name = "daily-report")
 * @Cron(value = "0 7 * * MON-FRI", timeZone = "Europe/Berlin", input = "{\"kind\":\"weekday\"}")
 * @Cron(value = "30 0 * * * *", name = "hourly-at-30s", missedTicks = MissedTicks.SKIP)
 * public class DailyReport { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(Cron.List.class)
public @interface Cron {
  /** The cron expression, e.g. {@code "0 7 * * *"} (07:00 every day). */
  String value();

  /** IANA time zone of the expression, e.g. {@code "Europe/Berlin"}. */
  String timeZone() default "UTC";

  /** The input of every run it starts, as JSON text. */
  String input() default "{}";

  /** Unique among the workflow's crons; empty = derived from the expression (and zone). */
  String name() default "";

  /** What to do with ticks that passed while no server was running. */
  MissedTicks missedTicks() default MissedTicks.FIRE_ONCE;

  /**
   * Holds several {@link Cron}s; written by the compiler when the annotation is repeated.
   *
   * <pre>{@code
   * @Cron("0 7 * * *") @Cron("0 19 * * *") public class Twice { ... }
   * }</pre>
   */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  @interface List {
    /** The repeated annotations. */
    Cron[] value();
  }
}
