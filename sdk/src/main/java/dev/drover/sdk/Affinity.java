package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Worker affinity of a {@link Step}: which workers, by their labels ({@link
 * WorkerBuilder#label(String, String)}), may run it or should run it. Repeat the annotation for
 * several labels.
 *
 * <ul>
 *   <li>{@code required = true}: only a worker with the label {@code key=value} gets the step. If no
 *       such worker is available the step waits in the queue (holding no slot) until one is, or until
 *       its {@link Step#scheduleToStartTimeout()} fails it.
 *   <li>otherwise a preference with a {@link #weight()}: a worker scores the sum of the weights of
 *       the preferred labels it has. The best-scoring available worker gets the step at once; a worker
 *       scoring less gets it only after the step waited up to about a second (in proportion to how
 *       much better the best worker scores), so a busy preferred worker delays work a little and
 *       never holds it back for good.
 * </ul>
 *
 * <pre>{@code
 * @Step(parents = "prepare")
 * @Affinity(key = "gpu", value = "true", required = true)
 * @Affinity(key = "region", value = "eu", weight = 10)
 * public Embedding embed(Document doc) { ... }
 *
 * client.newWorker("gpu-eu-1").label("gpu", "true").label("region", "eu").register(new Indexing()).start();
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(Affinity.List.class)
public @interface Affinity {
  /** Label name, e.g. {@code "gpu"}. */
  String key();

  /** Label value the worker must (or should) have, e.g. {@code "true"}. */
  String value();

  /** True: only workers with the label may run the step. False (default): a preference. */
  boolean required() default false;

  /** Score of a preference (at least 1); ignored when {@link #required()}. */
  int weight() default 1;

  /** Container of repeated {@link Affinity} annotations. */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @interface List {
    /** The labels. */
    Affinity[] value();
  }
}
