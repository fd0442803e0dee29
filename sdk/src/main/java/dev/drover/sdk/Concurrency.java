package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A concurrency group: at most {@link #maxRunning()} runs (on a {@link Workflow} class) or attempts
 * of a step (on a {@link Step} method) per key run at a time. The others wait on the server, holding
 * no worker slot. Repeat the annotation to stack groups: work starts when every group has room.
 *
 * <pre>{@code
 * @Workflow(name = "sync-account")
 * @Concurrency(key = "input.customerId", maxRunning = 2)           // fair across customers
 * @Concurrency(maxRunning = 50, strategy = Concurrency.Strategy.QUEUE) // and 50 in all
 * public class SyncAccount { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Repeatable(Concurrency.List.class)
public @interface Concurrency {
  /**
   * CEL expression over {@code input} giving the key, e.g. {@code "input.customerId"}; empty = one
   * key for all runs of the workflow (or attempts of the step).
   */
  String key() default "";

  /** Runs (or attempts) per key at a time; at least 1. */
  int maxRunning();

  /** What happens when a key is full. */
  Strategy strategy() default Strategy.ROUND_ROBIN;

  /** What happens to work that finds its key full. */
  enum Strategy {
    /** Waits; keys take turns, so a small key is never stuck behind a big one. Oldest first within a key. */
    ROUND_ROBIN,
    /** Waits; oldest first, within a key and across keys. */
    QUEUE,
    /** Starts at once: the oldest running run of the key is cancelled to make room. */
    CANCEL_IN_PROGRESS,
    /** Is cancelled at once. */
    CANCEL_NEWEST
  }

  /** Container of repeated {@link Concurrency} annotations. */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.TYPE, ElementType.METHOD})
  @interface List {
    /** The groups. */
    Concurrency[] value();
  }
}
