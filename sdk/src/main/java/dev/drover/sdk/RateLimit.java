package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A rate limit the step draws from: each attempt consumes {@link #units()} of the named limit. A step
 * whose limit has no room waits in the queue on the server (it is not failed and holds no worker
 * slot) until a window with room, and the limit is never exceeded in any window, however many workers
 * and servers there are. Create the limit itself with {@link DroverClient#putRateLimit} or
 * {@code drover rate-limit put}; a step naming a limit that does not exist waits until it is created.
 * Repeat the annotation to draw from several limits: the step starts when all of them have room.
 *
 * <pre>{@code
 * client.putRateLimit("stripe", 100, Duration.ofSeconds(1));          // once, at deploy time
 * client.putRateLimit("stripe-per-customer", 5, Duration.ofSeconds(1));
 *
 * @Step
 * @RateLimit(name = "stripe")                                         // 100/s shared by every worker
 * @RateLimit(name = "stripe-per-customer", key = "input.customerId")  // and 5/s per customer
 * public Receipt charge(Order order, StepContext ctx) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(RateLimit.List.class)
public @interface RateLimit {
  /** The limit's name, as created with {@link DroverClient#putRateLimit}. */
  String name();

  /**
   * CEL expression over {@code input} giving the bucket key, e.g. {@code "input.customerId"}: one
   * bucket of the limit's capacity per key. Empty = the limit's single global bucket. An input for
   * which the expression yields no string, number or boolean uses the global bucket.
   */
  String key() default "";

  /** Units one attempt consumes; at least 1. */
  int units() default 1;

  /** Container of repeated {@link RateLimit} annotations. */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @interface List {
    /** The limits. */
    RateLimit[] value();
  }
}
