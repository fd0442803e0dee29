package dev.drover.sdk;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A worker registered with the server, as listed by {@link DroverClient#listWorkers()}.
 *
 * <pre>{@code
 * for (WorkerInfo w : client.listWorkers()) {
 *   System.out.println(w.name() + " " + w.state() + " " + w.usedSlots() + "/" + w.slots() + " " + w.labels());
 * }
 * WorkerInfo w = client.drainWorker(id, Duration.ofMinutes(5));
 * if (w.drained()) stopTheProcess();
 * }</pre>
 *
 * @param id worker id (UUID), kept across reconnects of one worker process
 * @param name the name given to {@link DroverClient#newWorker(String)}
 * @param labels its labels ({@link WorkerBuilder#label(String, String)})
 * @param slots slot units it declared
 * @param usedSlots slot units of the attempts leased to it now
 * @param inFlight attempts leased to it now
 * @param state whether it takes new work
 * @param drained draining and nothing in flight any more: its process can be stopped
 * @param alive heartbeating within the server's lease timeout
 * @param lastHeartbeat its last heartbeat
 * @param registeredAt when it first registered
 * @param actions {@code "<workflow>/<step>"} it can run
 * @param sdk the SDK it reported, e.g. {@code drover-java/0.1.0}
 */
public record WorkerInfo(
    String id,
    String name,
    Map<String, String> labels,
    int slots,
    int usedSlots,
    int inFlight,
    State state,
    boolean drained,
    boolean alive,
    Instant lastHeartbeat,
    Instant registeredAt,
    List<String> actions,
    String sdk) {

  /** Copies the collections so the record stays immutable; labels are sorted by key. */
  public WorkerInfo {
    labels = labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(labels));
    actions = actions == null ? List.of() : List.copyOf(actions);
  }

  /** Whether a worker takes new work. */
  public enum State {
    /** Takes new work. */
    ACTIVE,
    /** Takes no new work; its in-flight attempts finish ({@link DroverClient#pauseWorker(String)}). */
    PAUSED,
    /** Paused until its in-flight attempts are done, then {@link WorkerInfo#drained()}. */
    DRAINING
  }
}
