package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Starts the annotated {@link Workflow} whenever a matching event is pushed; the run's input is the
 * event's payload and its metadata the event's metadata. Repeatable: a workflow started by several
 * of its listeners for one event starts once.
 *
 * <p>{@link #value} is an exact event name, a wildcard {@code "order.*"} (one or more dot-separated
 * segments after {@code "order."}) or {@code "*"} (every event). {@link #filter} is an optional
 * <a href="https://cel.dev">CEL</a> expression over {@code payload} (the event's JSON payload) and
 * {@code metadata}; an event whose payload lacks a field the filter reads does not match.
 *
 * <pre>{@code
 * @Workflow(name = "big-order")
 * @OnEvent(value = "order.paid", filter = "payload.total > 100")
 * @OnEvent("order.vip.*")
 * public class BigOrderWorkflow { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(OnEvent.List.class)
public @interface OnEvent {
  /** Event name or wildcard, e.g. {@code "order.paid"}, {@code "order.*"}, {@code "*"}. */
  String value();

  /** CEL expression over {@code payload} and {@code metadata}; empty = every matching event. */
  String filter() default "";

  /**
   * Holder of repeated {@link OnEvent}s (written by the compiler).
   *
   * <pre>{@code
   * @OnEvent("a") @OnEvent("b") // compiled as @OnEvent.List({@OnEvent("a"), @OnEvent("b")})
   * }</pre>
   */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  @interface List {
    /** The listeners. */
    OnEvent[] value();
  }
}
