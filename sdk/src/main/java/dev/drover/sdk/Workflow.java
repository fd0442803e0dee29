package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a class as a Drover workflow: a named, versioned DAG whose nodes are the class's
 * {@link Step} methods.
 *
 * <p>The name is persisted with every run, so it is a stable string chosen by the user rather
 * than derived from the class name (renaming a class must not orphan its runs).
 *
 * <pre>{@code
 * @Workflow(name = "order-fulfilment", version = "2", description = "charge and ship")
 * public class OrderWorkflow { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Workflow {
  /** Stable workflow name, e.g. {@code "order"}. Required. */
  String name();

  /** User-chosen version; runs stay pinned to the version they started on. */
  String version() default "1";

  /** Free text shown by tooling. */
  String description() default "";

  /**
   * Whether the steps of a run stick to the worker that ran its first step ({@link Sticky}); e.g.
   * {@code @Workflow(name = "build", sticky = Sticky.HARD)}.
   */
  Sticky sticky() default Sticky.NONE;
}
