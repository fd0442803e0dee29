package dev.drover.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** JSON building blocks of the report: percentiles, RSS, machine, commit, summaries. */
public final class Reports {
  /** The mapper used for every report line. */
  public static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Reports() {}

  /** One line of JSON. */
  public static String json(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {p50, p95, p99, max, mean} in ms of a nanosecond histogram; a JSON null when it is empty. */
  static JsonNode percentiles(Histogram h) {
    if (h == null || h.getTotalCount() == 0) {
      return F.nullNode();
    }
    ObjectNode o = F.objectNode();
    o.put("p50", round(ms(h.getValueAtPercentile(50)), 3));
    o.put("p95", round(ms(h.getValueAtPercentile(95)), 3));
    o.put("p99", round(ms(h.getValueAtPercentile(99)), 3));
    o.put("max", round(ms(h.getMaxValue()), 3));
    o.put("mean", round(h.getMean() / 1e6, 3));
    o.put("count", h.getTotalCount());
    return o;
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  static double round(double v, int places) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    return BigDecimal.valueOf(v).setScale(places, RoundingMode.HALF_UP).doubleValue();
  }

  /** Resident set size of this process (VmRSS) in MiB, or null off Linux. */
  static Long rssMb() {
    return procStatusMb("VmRSS:");
  }

  /** The Java heap this process has committed (reserved from the OS), in MiB. */
  static long heapCommittedMb() {
    return Math.round(java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted()
        / (1024.0 * 1024.0));
  }

  /** Forces a full collection and returns the heap still in use, in MiB: the live set. */
  static long heapLiveMb() {
    System.gc(); // G1: a full, stop-the-world collection unless -XX:+ExplicitGCInvokesConcurrent
    return Math.round(java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
        / (1024.0 * 1024.0));
  }

  /**
   * The heap in use right after the most recent collection (all heap pools), in MiB, or null when the
   * JVM does not say: what survived, without forcing a collection that would resize the heap.
   */
  static Long heapAfterLastGcMb() {
    com.sun.management.GcInfo last = null;
    for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof com.sun.management.GarbageCollectorMXBean g && g.getLastGcInfo() != null
          && (last == null || g.getLastGcInfo().getEndTime() > last.getEndTime())) {
        last = g.getLastGcInfo();
      }
    }
    if (last == null) {
      return null;
    }
    java.util.Set<String> heapPools = new java.util.HashSet<>();
    for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP) {
        heapPools.add(pool.getName());
      }
    }
    long used = 0;
    for (var e : last.getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    return Math.round(used / (1024.0 * 1024.0));
  }

  /** Peak resident set size of this process since it started (VmHWM) in MiB, or null off Linux. */
  static Long rssHighWaterMb() {
    return procStatusMb("VmHWM:");
  }

  private static Long procStatusMb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          String kb = line.substring(key.length()).trim().split("\\s+")[0];
          return Math.round(Long.parseLong(kb) / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return null;
  }

  static ObjectNode machine() {
    ObjectNode m = F.objectNode();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    long mem = Runtime.getRuntime().maxMemory();
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      mem = os.getTotalMemorySize();
    }
    m.put("memory_gb", round(mem / (1024.0 * 1024 * 1024), 1));
    m.put("java", Runtime.version().toString());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    return m;
  }

  static ObjectNode postgres(Map<String, String> settings) {
    ObjectNode pg = F.objectNode();
    settings.forEach(pg::put);
    return pg;
  }

  private static volatile String commit;

  /**
   * The commit the code was built from: {@code DROVER_GIT_COMMIT} if set, else read from the
   * {@code .git} directory above the jar (or the working directory) without running git; "unknown"
   * when there is none.
   */
  static String gitCommit() {
    String c = commit;
    if (c == null) {
      c = findCommit();
      commit = c;
    }
    return c;
  }

  private static String findCommit() {
    String env = System.getenv("DROVER_GIT_COMMIT");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    List<Path> starts = new ArrayList<>();
    try {
      var src = Reports.class.getProtectionDomain().getCodeSource();
      if (src != null) {
        starts.add(Path.of(src.getLocation().toURI()).toAbsolutePath());
      }
    } catch (Exception ignored) {
      // no code source
    }
    starts.add(Path.of("").toAbsolutePath());
    for (Path start : starts) {
      for (Path d = start; d != null; d = d.getParent()) {
        Path git = d.resolve(".git");
        if (Files.exists(git)) {
          String h = readHead(git);
          return h == null ? "unknown" : h;
        }
      }
    }
    return "unknown";
  }

  private static String readHead(Path git) {
    try {
      Path dir = git;
      if (Files.isRegularFile(git)) { // worktree: "gitdir: <path>"
        String line = Files.readString(git, StandardCharsets.UTF_8).trim();
        if (!line.startsWith("gitdir:")) {
          return null;
        }
        dir = git.getParent().resolve(line.substring(7).trim()).normalize();
      }
      String head = Files.readString(dir.resolve("HEAD"), StandardCharsets.UTF_8).trim();
      if (!head.startsWith("ref:")) {
        return shortHash(head);
      }
      String ref = head.substring(4).trim();
      Path common = dir;
      Path commonFile = dir.resolve("commondir");
      if (Files.isRegularFile(commonFile)) {
        common = dir.resolve(Files.readString(commonFile, StandardCharsets.UTF_8).trim()).normalize();
      }
      for (Path base : List.of(dir, common)) {
        Path loose = base.resolve(ref);
        if (Files.isRegularFile(loose)) {
          return shortHash(Files.readString(loose, StandardCharsets.UTF_8).trim());
        }
        Path packed = base.resolve("packed-refs");
        if (Files.isRegularFile(packed)) {
          for (String line : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
            if (line.endsWith(" " + ref)) {
              return shortHash(line.substring(0, line.indexOf(' ')));
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // unreadable
    }
    return null;
  }

  private static String shortHash(String h) {
    return h.matches("[0-9a-f]{7,64}") ? h.substring(0, Math.min(12, h.length())) : null;
  }

  // ------------------------------------------------------------------------------------------
  // Summaries over repetitions
  // ------------------------------------------------------------------------------------------

  /**
   * Median, min and max of every number in the repetition lines (also inside objects of numbers such
   * as {@code latency_ms}); other fields are taken from the first line.
   */
  static ObjectNode summarize(List<ObjectNode> reps) {
    ObjectNode first = reps.get(0);
    ObjectNode out = F.objectNode();
    out.put("workload", first.path("workload").asText());
    out.put("summary", true);
    out.put("repetitions", reps.size());
    Iterator<Map.Entry<String, JsonNode>> it = first.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (k.equals("workload") || k.equals("repetition") || k.equals("repetitions")) {
        continue;
      }
      List<JsonNode> values = new ArrayList<>();
      for (ObjectNode r : reps) {
        values.add(r.get(k));
      }
      out.set(k, summarizeField(k, values));
    }
    ArrayNode rss = out.putArray("server_rss_mb_per_repetition");
    ArrayNode afterGc = out.putArray("heap_after_gc_mb_per_repetition");
    ArrayNode live = reps.get(0).has("heap_live_mb") ? out.putArray("heap_live_mb_per_repetition") : null;
    Long peak = null;
    for (ObjectNode r : reps) {
      JsonNode v = r.get("server_rss_mb");
      rss.add(v == null ? F.nullNode() : v);
      JsonNode h = r.get("heap_after_gc_mb");
      afterGc.add(h == null ? F.nullNode() : h);
      if (live != null) {
        JsonNode l = r.get("heap_live_mb");
        live.add(l == null ? F.nullNode() : l);
      }
      JsonNode p = r.get("server_rss_peak_mb");
      if (p != null && p.isNumber()) {
        peak = peak == null ? p.asLong() : Math.max(peak, p.asLong());
      }
    }
    if (peak == null) {
      out.putNull("server_rss_peak_mb");
    } else {
      out.put("server_rss_peak_mb", peak);
    }
    return out;
  }

  private static JsonNode summarizeField(String key, List<JsonNode> values) {
    JsonNode first = values.get(0);
    if (key.equals("runs") || key.equals("parameters") || key.equals("postgres") || key.equals("machine")) {
      return first;
    }
    boolean numeric = false;
    boolean object = false;
    for (JsonNode v : values) {
      if (v == null || v.isNull()) {
        continue;
      }
      if (v.isNumber()) {
        numeric = true;
      } else if (v.isObject() && allNumbers(v)) {
        object = true;
      } else {
        return first;
      }
    }
    if (numeric) {
      return stats(values);
    }
    if (object) {
      ObjectNode o = F.objectNode();
      JsonNode shape = values.stream().filter(v -> v != null && v.isObject()).findFirst().orElseThrow();
      shape.fieldNames().forEachRemaining(f -> {
        List<JsonNode> sub = new ArrayList<>();
        for (JsonNode v : values) {
          sub.add(v == null ? null : v.get(f));
        }
        o.set(f, stats(sub));
      });
      return o;
    }
    return first;
  }

  private static boolean allNumbers(JsonNode o) {
    for (JsonNode v : o) {
      if (!v.isNumber() && !v.isNull()) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode stats(List<JsonNode> values) {
    List<Double> xs = new ArrayList<>();
    for (JsonNode v : values) {
      if (v != null && v.isNumber()) {
        xs.add(v.asDouble());
      }
    }
    if (xs.isEmpty()) {
      return F.nullNode();
    }
    xs.sort(null);
    int n = xs.size();
    double median = n % 2 == 1 ? xs.get(n / 2) : (xs.get(n / 2 - 1) + xs.get(n / 2)) / 2;
    ObjectNode o = F.objectNode();
    o.put("median", round(median, 3));
    o.put("min", round(xs.get(0), 3));
    o.put("max", round(xs.get(n - 1), 3));
    return o;
  }
}
