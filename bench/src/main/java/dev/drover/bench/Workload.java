package dev.drover.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One benchmark workload ({@code drover bench <name>}). {@link #run} performs one repetition and
 * returns its figures; {@link BenchRunner} adds the common fields (RSS, PostgreSQL, machine, commit).
 */
public interface Workload {
  /** The subcommand name, e.g. {@code burn-down}. */
  String name();

  /** One line for {@code drover bench} and the help. */
  String description();

  /**
   * Runs one repetition.
   *
   * @return {@code parameters}, {@code runs}, {@code seconds}, {@code throughput_per_s},
   *     {@code latency_ms} (or null) and workload-specific fields, in that order
   */
  ObjectNode run(Harness h) throws Exception;

  /** Rejects options this workload cannot use, before any server starts. */
  default void check(BenchConfig c) {}

  /** The leading fields every workload reports, in the order of the report. */
  static ObjectNode result(ObjectNode parameters, long runs, double seconds, double throughputPerS, JsonNode latency) {
    ObjectNode o = Reports.MAPPER.createObjectNode();
    o.set("parameters", parameters);
    o.put("runs", runs);
    o.put("seconds", Reports.round(seconds, 3));
    o.put("throughput_per_s", Reports.round(throughputPerS, 1));
    o.set("latency_ms", latency);
    return o;
  }

  static ObjectNode params() {
    return Reports.MAPPER.createObjectNode();
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
