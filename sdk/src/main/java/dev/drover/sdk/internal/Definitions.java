package dev.drover.sdk.internal;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds and validates {@link WorkflowModel}s from annotated classes. All problems are reported
 * as {@link IllegalArgumentException}s naming the workflow, step and attribute, at registration
 * time, so that a mistake never surfaces first on a production run.
 *
 * <pre>{@code
 * WorkflowModel wf = Definitions.fromClass(OrderWorkflow.class);
 * }</pre>
 */
public final class Definitions {
  private Definitions() {}

  /** Finds the {@code @Workflow} class of {@code type}, looking through superclasses (proxies). */
  public static Class<?> workflowClass(Class<?> type) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      if (c.isAnnotationPresent(Workflow.class)) {
        return c;
      }
    }
    throw new IllegalArgumentException(
        type.getName() + " is not a workflow: annotate it with @Workflow(name = \"...\")");
  }

  /** The workflow name declared on {@code type}. */
  public static String workflowName(Class<?> type) {
    Workflow wf = workflowClass(type).getAnnotation(Workflow.class);
    if (wf.name().isBlank()) {
      throw new IllegalArgumentException("@Workflow on " + type.getName() + " needs a non-empty name");
    }
    return wf.name().trim();
  }

  /** Reads and validates the workflow declared by {@code type}. */
  public static WorkflowModel fromClass(Class<?> type) {
    Class<?> wfClass = workflowClass(type);
    Workflow wf = wfClass.getAnnotation(Workflow.class);
    String name = workflowName(wfClass);
    if (wf.version().isBlank()) {
      throw new IllegalArgumentException("workflow '" + name + "': version must not be empty");
    }
    String where = "workflow '" + name + "' (" + wfClass.getName() + ")";

    Map<String, StepModel> byName = new LinkedHashMap<>();
    for (Method m : stepMethods(wfClass, where)) {
      StepModel s = readStep(where, m);
      StepModel previous = byName.putIfAbsent(s.name(), s);
      if (previous != null) {
        throw new IllegalArgumentException(
            where + ": duplicate step name '" + s.name() + "' on methods " + previous.method().getName()
                + " and " + m.getName());
      }
    }
    if (byName.isEmpty()) {
      throw new IllegalArgumentException(where + " has no public @Step methods");
    }
    concurrency(wfClass, where);
    for (StepModel s : byName.values()) {
      concurrency(s.method(), where + ", step '" + s.name() + "'");
      AffinityAnnotations.read(s.method(), where + ", step '" + s.name() + "'");
      rateLimits(s.method(), where + ", step '" + s.name() + "'");
    }
    List<String> onFailure = byName.values().stream().filter(s -> s.durable().onFailure()).map(StepModel::name).toList();
    if (onFailure.size() > 1) {
      throw new IllegalArgumentException(where + ": more than one onFailure step: " + onFailure);
    }
    for (StepModel s : byName.values()) {
      for (String p : s.parents()) {
        if (onFailure.contains(p)) {
          throw new IllegalArgumentException(
              where + ", step '" + s.name() + "': parent '" + p + "' is the onFailure step, which is not part of the DAG");
        }
        if (!byName.containsKey(p)) {
          throw new IllegalArgumentException(
              where + ", step '" + s.name() + "': unknown parent '" + p + "' (steps are "
                  + new TreeSet<>(byName.keySet()) + ")");
        }
      }
    }
    checkEventTriggers(where, wfClass);
    CronAnnotations.read(wfClass, where); // fails now rather than at the worker's registration
    return new WorkflowModel(
        wfClass, name, wf.version().trim(), wf.description(), topologicalOrder(where, byName));
  }

  /**
   * Checks the class's {@link dev.drover.sdk.OnEvent} listeners: names and wildcards here, filters
   * (CEL) by the server when the worker registers.
   */
  static void checkEventTriggers(String where, Class<?> wfClass) {
    dev.drover.sdk.OnEvent[] listeners = wfClass.getAnnotationsByType(dev.drover.sdk.OnEvent.class);
    for (int i = 0; i < listeners.length; i++) {
      String at = where + ", @OnEvent #" + (i + 1) + ", attribute value";
      String pattern = listeners[i].value();
      if (pattern == null || pattern.isBlank()) {
        throw new IllegalArgumentException(at + ": the event name must not be empty");
      }
      if (pattern.length() > 200) {
        throw new IllegalArgumentException(at + ": the event name is longer than 200 characters");
      }
      if (!pattern.equals(pattern.trim())) {
        throw new IllegalArgumentException(at + ": \"" + pattern + "\" has leading or trailing spaces");
      }
      int star = pattern.indexOf('*');
      boolean wildcardOk = pattern.equals("*")
          || (star == pattern.length() - 1 && pattern.endsWith(".*") && pattern.length() > 2);
      if (star >= 0 && !wildcardOk) {
        throw new IllegalArgumentException(at + ": \"" + pattern
            + "\" is not a valid wildcard: '*' may only stand alone or as the whole last segment, as in \"order.*\"");
      }
      if (listeners[i].filter().length() > 4096) {
        throw new IllegalArgumentException(
            where + ", @OnEvent #" + (i + 1) + ", attribute filter: longer than 4096 characters");
      }
    }
  }

  /** Adds the class's {@link dev.drover.sdk.OnEvent} listeners to its wire definition. */
  public static void addEventTriggers(dev.drover.proto.v1.WorkflowDefinition.Builder b, Class<?> wfClass) {
    for (dev.drover.sdk.OnEvent e : wfClass.getAnnotationsByType(dev.drover.sdk.OnEvent.class)) {
      b.addEventTriggers(dev.drover.proto.v1.EventTrigger.newBuilder()
          .setEvent(e.value())
          .setFilter(e.filter().trim()));
    }
  }

  /** The concurrency groups declared on a workflow class or step method, validated, in wire form. */
  public static List<dev.drover.proto.v1.ConcurrencyGroup> concurrency(
      java.lang.reflect.AnnotatedElement element, String where) {
    List<dev.drover.proto.v1.ConcurrencyGroup> out = new ArrayList<>();
    for (dev.drover.sdk.Concurrency c : element.getAnnotationsByType(dev.drover.sdk.Concurrency.class)) {
      if (c.maxRunning() < 1) {
        throw new IllegalArgumentException(where + ": @Concurrency maxRunning must be >= 1, got " + c.maxRunning());
      }
      out.add(
          dev.drover.proto.v1.ConcurrencyGroup.newBuilder()
              .setKeyExpression(c.key().trim())
              .setMaxRunning(c.maxRunning())
              .setStrategy(c.strategy().name().toLowerCase(java.util.Locale.ROOT))
              .build());
    }
    return out;
  }

  /** The rate limits a step method draws from ({@link dev.drover.sdk.RateLimit}), validated, in wire form. */
  public static List<dev.drover.proto.v1.RateLimitUse> rateLimits(Method method, String where) {
    List<dev.drover.proto.v1.RateLimitUse> out = new ArrayList<>();
    for (dev.drover.sdk.RateLimit r : method.getAnnotationsByType(dev.drover.sdk.RateLimit.class)) {
      if (r.name() == null || r.name().isBlank()) {
        throw new IllegalArgumentException(where + ": @RateLimit name must not be empty");
      }
      if (r.units() < 1) {
        throw new IllegalArgumentException(
            where + ": @RateLimit(name = \"" + r.name() + "\") units must be >= 1, got " + r.units());
      }
      out.add(
          dev.drover.proto.v1.RateLimitUse.newBuilder()
              .setLimitName(r.name().trim())
              .setKeyExpression(r.key().trim())
              .setUnits(r.units())
              .build());
    }
    return out;
  }

  private static List<Method> stepMethods(Class<?> wfClass, String where) {
    List<Method> result = new ArrayList<>();
    Set<String> seenSignatures = new LinkedHashSet<>();
    // Walk declared methods (not getMethods) so that non-public @Step methods are reported instead
    // of silently ignored; subclass methods come first so overrides win.
    for (Class<?> c = wfClass; c != null && c != Object.class; c = c.getSuperclass()) {
      Method[] declared = c.getDeclaredMethods();
      java.util.Arrays.sort(declared, Comparator.comparing(Method::getName));
      for (Method m : declared) {
        if (!m.isAnnotationPresent(Step.class) || m.isSynthetic() || m.isBridge()) {
          continue;
        }
        String signature = m.getName() + java.util.Arrays.toString(m.getParameterTypes());
        if (!seenSignatures.add(signature)) {
          continue;
        }
        if (!Modifier.isPublic(m.getModifiers())) {
          throw new IllegalArgumentException(where + ": @Step method " + m.getName() + " must be public");
        }
        // A public method of a non-public (e.g. nested test) class is not invocable reflectively
        // from this package without this; failure is harmless for public classes.
        m.trySetAccessible();
        if (Modifier.isStatic(m.getModifiers())) {
          throw new IllegalArgumentException(where + ": @Step method " + m.getName() + " must not be static");
        }
        result.add(m);
      }
    }
    return result;
  }

  private static StepModel readStep(String where, Method m) {
    Step a = m.getAnnotation(Step.class);
    String stepName = a.name().isBlank() ? m.getName() : a.name().trim();
    String at = where + ", step '" + stepName + "'";

    LinkedHashSet<String> parents = new LinkedHashSet<>();
    for (String p : a.parents()) {
      if (p == null || p.isBlank()) {
        throw new IllegalArgumentException(at + ": parents must not contain an empty name");
      }
      if (!parents.add(p.trim())) {
        throw new IllegalArgumentException(at + ": parent '" + p.trim() + "' is listed twice");
      }
    }
    if (a.maxAttempts() < 1) {
      throw new IllegalArgumentException(at + ": maxAttempts must be >= 1, got " + a.maxAttempts());
    }
    if (!(a.backoffMultiplier() >= 1.0) || Double.isInfinite(a.backoffMultiplier())) {
      throw new IllegalArgumentException(
          at + ": backoffMultiplier must be a finite number >= 1.0, got " + a.backoffMultiplier());
    }
    if (a.priority() < 0 || a.priority() > 4) {
      throw new IllegalArgumentException(at + ": priority must be between 0 and 4, got " + a.priority());
    }
    if (a.slots() < 1) {
      throw new IllegalArgumentException(at + ": slots must be >= 1, got " + a.slots());
    }
    long initialBackoff = millis(at, "initialBackoff", a.initialBackoff());
    long maxBackoff = millis(at, "maxBackoff", a.maxBackoff());
    if (initialBackoff <= 0) {
      throw new IllegalArgumentException(at + ": initialBackoff must be > 0, got \"" + a.initialBackoff() + "\"");
    }
    if (maxBackoff < initialBackoff) {
      throw new IllegalArgumentException(
          at + ": maxBackoff (\"" + a.maxBackoff() + "\") must be >= initialBackoff (\""
              + a.initialBackoff() + "\")");
    }
    long executionTimeout = millis(at, "executionTimeout", a.executionTimeout());
    long scheduleToStart = millis(at, "scheduleToStartTimeout", a.scheduleToStartTimeout());

    int contextIndex = -1;
    int inputIndex = -1;
    Parameter[] params = m.getParameters();
    for (int i = 0; i < params.length; i++) {
      if (params[i].getType() == StepContext.class) {
        if (contextIndex >= 0) {
          throw new IllegalArgumentException(
              at + ": method " + m.getName() + " declares more than one StepContext parameter");
        }
        contextIndex = i;
      } else {
        if (inputIndex >= 0) {
          throw new IllegalArgumentException(
              at + ": method " + m.getName() + " may declare at most one input parameter besides "
                  + "StepContext, found " + params[inputIndex].getType().getSimpleName() + " and "
                  + params[i].getType().getSimpleName());
        }
        inputIndex = i;
      }
    }
    return new StepModel(
        stepName,
        List.copyOf(parents),
        a.maxAttempts(),
        initialBackoff,
        a.backoffMultiplier(),
        maxBackoff,
        executionTimeout,
        scheduleToStart,
        a.slots(),
        m,
        contextIndex,
        inputIndex,
        inputIndex >= 0 ? params[inputIndex].getParameterizedType() : null,
        durable(at, a, parents));
  }

  private static StepModel.Durable durable(String at, Step a, Set<String> parents) {
    long sleep = millis(at, "sleep", a.sleep());
    long waitTimeout = millis(at, "waitTimeout", a.waitTimeout());
    String event = a.waitForEvent().trim();
    if (event.isEmpty() && (!a.waitMatch().isBlank() || waitTimeout > 0)) {
      throw new IllegalArgumentException(at + ": waitMatch and waitTimeout need waitForEvent");
    }
    if (event.contains("*")) {
      throw new IllegalArgumentException(at + ", attribute waitForEvent: an exact event name, not a wildcard");
    }
    if (a.onFailure()) {
      if (!parents.isEmpty()) {
        throw new IllegalArgumentException(at + ": an onFailure step must not have parents");
      }
      if (sleep > 0 || !event.isEmpty() || !a.skipIf().isBlank()) {
        throw new IllegalArgumentException(at + ": an onFailure step cannot wait or be skipped");
      }
    }
    return new StepModel.Durable(a.skipIf().trim(), sleep, event, a.waitMatch().trim(), waitTimeout,
        a.onWaitTimeout() == Step.WaitTimeout.CONTINUE, a.onFailure());
  }

  private static long millis(String at, String attribute, String value) {
    try {
      Duration d = Durations.parse(value);
      return d.toMillis();
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(at + ", attribute " + attribute + ": " + e.getMessage(), e);
    }
  }

  /** Kahn's algorithm with a name-ordered queue: deterministic, and detects cycles. */
  private static List<StepModel> topologicalOrder(String where, Map<String, StepModel> byName) {
    Map<String, Integer> pendingParents = new HashMap<>();
    Map<String, List<String>> children = new HashMap<>();
    for (StepModel s : byName.values()) {
      pendingParents.put(s.name(), s.parents().size());
      for (String p : s.parents()) {
        children.computeIfAbsent(p, k -> new ArrayList<>()).add(s.name());
      }
    }
    PriorityQueue<String> ready = new PriorityQueue<>();
    pendingParents.forEach((n, c) -> {
      if (c == 0) {
        ready.add(n);
      }
    });
    List<StepModel> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String n = ready.poll();
      order.add(byName.get(n));
      for (String child : children.getOrDefault(n, List.of())) {
        if (pendingParents.merge(child, -1, Integer::sum) == 0) {
          ready.add(child);
        }
      }
    }
    if (order.size() != byName.size()) {
      Set<String> inCycle = new TreeSet<>();
      pendingParents.forEach((n, c) -> {
        if (c > 0) {
          inCycle.add(n);
        }
      });
      throw new IllegalArgumentException(
          where + ": steps form a cycle through their parents: " + inCycle);
    }
    return order;
  }
}
