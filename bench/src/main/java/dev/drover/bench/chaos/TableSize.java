package dev.drover.bench.chaos;

import java.util.List;

/**
 * The size of one engine table at one moment.
 *
 * @param table the table's name
 * @param rows its rows ({@code count(*)})
 * @param bytes {@code pg_total_relation_size}: the heap, its indexes and TOAST
 */
public record TableSize(String table, long rows, long bytes) {
  /** The hot tables: work in flight only, kept small by the engine itself. */
  public static final List<String> HOT = List.of("drover_task", "drover_wait", "drover_gate_member", "drover_gate_key");
  /** The history tables: pruned by time after the retention. */
  public static final List<String> HISTORY = List.of("drover_run", "drover_step_run", "drover_step_attempt", "drover_event");

  /** {@code 12 rows/96 kB}. */
  public String describe() {
    return rows + "/" + human(bytes);
  }

  /** 8192 -> {@code 8 kB}, 1572864 -> {@code 1.5 MB}. */
  public static String human(long bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024.0) + " kB";
    if (bytes < 1024L * 1024 * 1024) return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    return String.format(java.util.Locale.ROOT, "%.2f GB", bytes / 1073741824.0);
  }
}
