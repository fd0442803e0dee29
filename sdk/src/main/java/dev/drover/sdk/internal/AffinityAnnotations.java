package dev.drover.sdk.internal;

import dev.drover.proto.v1.LabelAffinity;
import dev.drover.sdk.Affinity;
import dev.drover.sdk.Workflow;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and checks {@link Affinity} on step methods and {@link Workflow#sticky()}, in wire form.
 *
 * <pre>{@code
 * List<LabelAffinity> a = AffinityAnnotations.read(method, "workflow 'index', step 'embed'");
 * }</pre>
 */
public final class AffinityAnnotations {
  private AffinityAnnotations() {}

  /** The step's labels, validated; {@code where} names the step in error messages. */
  public static List<LabelAffinity> read(Method step, String where) {
    Affinity[] all = step.getAnnotationsByType(Affinity.class);
    if (all.length > 32) {
      throw new IllegalArgumentException(where + ": at most 32 @Affinity labels, found " + all.length);
    }
    List<LabelAffinity> out = new ArrayList<>(all.length);
    Map<String, String> required = new HashMap<>();
    for (Affinity a : all) {
      String at = where + ", @Affinity(key = \"" + a.key() + "\")";
      if (a.key().isBlank()) {
        throw new IllegalArgumentException(where + ": @Affinity key must not be empty");
      }
      if (!a.key().equals(a.key().trim()) || !a.value().equals(a.value().trim())) {
        throw new IllegalArgumentException(at + ": key and value must not have leading or trailing spaces");
      }
      if (a.required()) {
        String before = required.put(a.key(), a.value());
        if (before != null && !before.equals(a.value())) {
          throw new IllegalArgumentException(
              at + ": required with two values (\"" + before + "\" and \"" + a.value() + "\"): no worker could run the step");
        }
      } else if (a.weight() < 1 || a.weight() > 1_000_000) {
        throw new IllegalArgumentException(at + ": weight must be between 1 and 1000000, got " + a.weight());
      }
      out.add(LabelAffinity.newBuilder()
          .setKey(a.key())
          .setValue(a.value())
          .setRequired(a.required())
          .setWeight(a.required() ? 0 : a.weight())
          .build());
    }
    return out;
  }

  /** The wire form of the workflow class's sticky mode. */
  public static String sticky(Class<?> workflowClass) {
    Workflow wf = Definitions.workflowClass(workflowClass).getAnnotation(Workflow.class);
    return wf.sticky() == null ? "" : wf.sticky().wireName();
  }
}
