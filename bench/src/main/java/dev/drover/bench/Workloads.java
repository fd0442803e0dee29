package dev.drover.bench;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Every workload, by name, in the order {@code drover bench} lists them. */
public final class Workloads {
  private static final Map<String, Workload> ALL = new LinkedHashMap<>();

  static {
    for (Workload w : new Workload[] {
        new BurnDown(), new Steady(), new Latency(), new Bulk(), new ConcurrentTriggers(false), new DagRuns(),
        new Backlog(), new ConcurrentTriggers(true), new BulkPush(), new Spike(), new Ceiling()}) {
      ALL.put(w.name(), w);
    }
  }

  private Workloads() {}

  /** All workloads. */
  public static Collection<Workload> all() {
    return ALL.values();
  }

  /**
   * The workload called {@code name}.
   *
   * @throws BenchUsageException when there is none
   */
  public static Workload get(String name) {
    Workload w = ALL.get(name);
    if (w == null) {
      throw new BenchUsageException("unknown workload '" + name + "' (one of " + String.join(", ", ALL.keySet()) + ")");
    }
    return w;
  }
}
