package dev.drover.bench.chaos;

import java.util.List;

/**
 * What a chaos run found.
 *
 * @param accepted runs whose trigger call returned
 * @param completed accepted runs that ended SUCCEEDED
 * @param lost accepted runs that ended FAILED/CANCELLED or could not be found
 * @param duplicates ledger executions beyond the attempts the server recorded for their step
 * @param stuck accepted runs still not final after the settle timeout
 * @param reexecutions extra executions the server did record (attempt > 1 without a deliberate
 *     failure): each is a lease expiry after a killed worker or a lost connection
 * @param workerKills SIGKILLs of worker processes
 * @param serverKills SIGKILLs of server processes
 * @param pgRestarts stops and starts of PostgreSQL
 * @param connectionKills backends terminated with pg_terminate_backend
 * @param gracefulRestarts servers and workers stopped with SIGTERM and started again (rolling restart)
 * @param forcedStops of those, processes that did not exit within their deadline and were killed
 * @param cronTicks distinct ticks of the 1-second cron that fired, first to last
 * @param cronMissing ticks between the first and the last with no run, not explained by the
 *     missed-tick policy
 * @param cronDoubled runs beyond one for a tick
 * @param cronCollapsed ticks the {@code fire_once} missed-tick policy folded into a later tick's
 *     run, because no server could fire them in time (the database or every server was down)
 * @param cronUnfinished cron runs that did not end SUCCEEDED
 * @param concurrencyMax the most runs of one key of the limited workflow executing at one instant
 *     (the limit is {@link ChaosWorkflows#LIMIT})
 * @param concurrencyStaleOverlaps two executions of one run at once (a lease expired while the old
 *     attempt still ran): the same run, so one place in the limit
 * @param rateMax the most units of {@link ChaosWorkflows#RATE_LIMIT} granted to one key in one
 *     window, counted over the executions in the ledger (the capacity is {@link ChaosWorkflows#RATE})
 * @param rateViolations (key, window) pairs granted more than the capacity
 * @param rateUnverifiable rate-limited executions whose grant was missing or impossible
 * @param rateStartsMax information: the most rate-limited executions of one key that started in one
 *     wall-clock second (may exceed the capacity legitimately: see {@code LedgerChecks.rates})
 * @param seconds wall time of the whole run
 * @param tablesBefore engine table sizes after the servers started, before any work
 * @param tablesPeak the largest size of each table seen (measured every minute in a soak)
 * @param tablesAfter engine table sizes at the end, every run finished
 * @param problems up to 20 human-readable details of lost, stuck or duplicated runs, missed ticks,
 *     exceeded limits
 */
public record ChaosResult(
    long accepted,
    long completed,
    long lost,
    long duplicates,
    long stuck,
    long reexecutions,
    int workerKills,
    int serverKills,
    int pgRestarts,
    int connectionKills,
    int gracefulRestarts,
    int forcedStops,
    int cronTicks,
    int cronMissing,
    int cronDoubled,
    int cronCollapsed,
    int cronUnfinished,
    int concurrencyMax,
    int concurrencyStaleOverlaps,
    int rateMax,
    int rateViolations,
    int rateUnverifiable,
    int rateStartsMax,
    long seconds,
    List<TableSize> tablesBefore,
    List<TableSize> tablesPeak,
    List<TableSize> tablesAfter,
    List<String> problems) {

  /** The one summary line. */
  public String summaryLine() {
    return "accepted=" + accepted + " completed=" + completed + " lost=" + lost + " duplicates=" + duplicates
        + " stuck=" + stuck + " reexecutions=" + reexecutions + " worker_kills=" + workerKills + " server_kills="
        + serverKills + " pg_restarts=" + pgRestarts + " connection_kills=" + connectionKills + " graceful_restarts="
        + gracefulRestarts + " forced_stops=" + forcedStops + " cron_ticks=" + cronTicks + " missing=" + cronMissing
        + " doubled=" + cronDoubled + " collapsed=" + cronCollapsed + " cron_unfinished=" + cronUnfinished
        + " concurrency_max=" + concurrencyMax + " rate_max=" + rateMax + "/" + ChaosWorkflows.RATE + " seconds="
        + seconds;
  }

  /** The table sizes: one line, {@code rows/bytes} of each table before, at the peak and after. */
  public String tablesLine() {
    StringBuilder b = new StringBuilder("tables rows/size before -> peak -> after:");
    for (int i = 0; i < tablesAfter.size(); i++) {
      TableSize a = tablesAfter.get(i);
      TableSize before = find(tablesBefore, a.table());
      TableSize peak = find(tablesPeak, a.table());
      b.append(i == 0 ? " " : ", ").append(a.table()).append(' ')
          .append(before == null ? "?" : before.describe()).append(" -> ")
          .append(peak == null ? "?" : peak.describe()).append(" -> ").append(a.describe());
    }
    return b.toString();
  }

  /** {@code drover_task 0/72 kB, ...}. */
  public static String describe(List<TableSize> sizes) {
    StringBuilder b = new StringBuilder();
    for (TableSize t : sizes) b.append(b.isEmpty() ? "" : ", ").append(t.table()).append(' ').append(t.describe());
    return b.toString();
  }

  private static TableSize find(List<TableSize> sizes, String table) {
    for (TableSize t : sizes) if (t.table().equals(table)) return t;
    return null;
  }

  /** The same figures as one JSON object. */
  public String toJson() {
    StringBuilder p = new StringBuilder("[");
    for (int i = 0; i < problems.size(); i++) {
      if (i > 0) p.append(',');
      p.append('"').append(problems.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
    p.append(']');
    return "{\"accepted\":" + accepted + ",\"completed\":" + completed + ",\"lost\":" + lost + ",\"duplicates\":"
        + duplicates + ",\"stuck\":" + stuck + ",\"reexecutions\":" + reexecutions + ",\"worker_kills\":" + workerKills
        + ",\"server_kills\":" + serverKills + ",\"pg_restarts\":" + pgRestarts + ",\"connection_kills\":"
        + connectionKills + ",\"graceful_restarts\":" + gracefulRestarts + ",\"forced_stops\":" + forcedStops
        + ",\"cron_ticks\":" + cronTicks + ",\"cron_missing\":" + cronMissing + ",\"cron_doubled\":" + cronDoubled
        + ",\"cron_collapsed\":" + cronCollapsed + ",\"cron_unfinished\":" + cronUnfinished + ",\"concurrency_max\":"
        + concurrencyMax + ",\"concurrency_stale_overlaps\":" + concurrencyStaleOverlaps + ",\"rate_max\":" + rateMax
        + ",\"rate_capacity\":" + ChaosWorkflows.RATE + ",\"rate_violations\":" + rateViolations
        + ",\"rate_unverifiable\":" + rateUnverifiable + ",\"rate_starts_max\":" + rateStartsMax + ",\"seconds\":" + seconds
        + ",\"tables_before\":" + json(tablesBefore) + ",\"tables_peak\":" + json(tablesPeak) + ",\"tables_after\":"
        + json(tablesAfter) + ",\"problems\":" + p + "}";
  }

  private static String json(List<TableSize> sizes) {
    StringBuilder b = new StringBuilder("{");
    for (TableSize t : sizes) {
      if (b.length() > 1) b.append(',');
      b.append('"').append(t.table()).append("\":{\"rows\":").append(t.rows()).append(",\"bytes\":").append(t.bytes())
          .append('}');
    }
    return b.append('}').toString();
  }

  /**
   * Whether the promise held: nothing lost, nothing stuck, no unexplained duplicate, every cron tick
   * fired once (or collapsed by the policy), every cron run succeeded, no concurrency limit exceeded,
   * no rate limit window granted more than its capacity (and every rate-limited execution verifiable).
   */
  public boolean ok() {
    return lost == 0 && stuck == 0 && duplicates == 0 && cronMissing == 0 && cronDoubled == 0 && cronUnfinished == 0
        && concurrencyMax <= ChaosWorkflows.LIMIT && rateViolations == 0 && rateUnverifiable == 0
        && rateMax <= ChaosWorkflows.RATE;
  }
}
