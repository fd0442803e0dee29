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
 * @param seconds wall time of the whole run
 * @param problems up to 20 human-readable details of lost, stuck or duplicated runs
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
    long seconds,
    List<String> problems) {

  /** The one summary line. */
  public String summaryLine() {
    return "accepted=" + accepted + " completed=" + completed + " lost=" + lost + " duplicates=" + duplicates
        + " stuck=" + stuck + " reexecutions=" + reexecutions + " worker_kills=" + workerKills + " server_kills="
        + serverKills + " pg_restarts=" + pgRestarts + " connection_kills=" + connectionKills + " seconds=" + seconds;
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
        + connectionKills + ",\"seconds\":" + seconds + ",\"problems\":" + p + "}";
  }

  /** Whether the promise held: nothing lost, nothing stuck, no unexplained duplicate. */
  public boolean ok() {
    return lost == 0 && stuck == 0 && duplicates == 0;
  }
}
