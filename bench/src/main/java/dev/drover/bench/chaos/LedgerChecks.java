package dev.drover.bench.chaos;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/** The flow-control checks of the chaos suite, over what the ledger and the database recorded. */
final class LedgerChecks {
  private LedgerChecks() {}

  /** What the cron check found. */
  record Ticks(int ticks, int missing, int doubled, int collapsed) {}

  /**
   * Every tick of a cron between the first and the last one that fired has exactly one run, except
   * ticks the missed-tick policy collapsed. The server fires a tick found more than {@code
   * missedAfter} late ({@code fire_once}, the default) as one run for the latest tick then due and
   * skips the ones before it. So a gap between consecutive fired ticks {@code a} and {@code b} is
   * allowed (counted as collapsed) only when the run of {@code b} was created more than {@code
   * missedAfter} after the first skipped tick ({@code a + period}) was due — which happens only when
   * no server could fire it in time (every server down, or the database); otherwise its ticks are
   * missing. A tick with more than one run is doubled.
   *
   * @param runsByTick run ids per fired tick ({@code drover.tick})
   * @param createdByTick when the (first) run of each tick was created, on the database clock
   * @param period the cron's period (a cron firing at a fixed interval)
   * @param missedAfter the server's {@code Scheduler.MISSED_AFTER}
   * @param problems where details go
   * @param log where collapses are explained
   */
  static Ticks cronTicks(Map<Instant, ? extends Set<String>> runsByTick, Map<Instant, Instant> createdByTick,
      Duration period, Duration missedAfter, List<String> problems, Consumer<String> log) {
    TreeMap<Instant, Set<String>> byTick = new TreeMap<>(runsByTick);
    int missing = 0, doubled = 0, collapsed = 0;
    Instant prev = null;
    for (Map.Entry<Instant, Set<String>> e : byTick.entrySet()) {
      if (e.getValue().size() > 1) {
        doubled += e.getValue().size() - 1;
        note(problems, "cron tick " + e.getKey() + " fired " + e.getValue().size() + " runs: " + e.getValue());
      }
      if (prev != null) {
        long gap = Duration.between(prev, e.getKey()).toMillis() / period.toMillis() - 1;
        if (gap > 0) {
          Instant firstSkipped = prev.plus(period);
          Instant firedAt = createdByTick.get(e.getKey());
          if (firedAt != null && Duration.between(firstSkipped, firedAt).compareTo(missedAfter) > 0) {
            collapsed += (int) gap;
            log.accept("cron: " + gap + " ticks from " + firstSkipped + " collapsed into the run of " + e.getKey()
                + " (fired at " + firedAt + ", missed-tick policy fire_once)");
          } else {
            missing += (int) gap;
            note(problems, "cron: " + gap + " ticks missing between " + prev + " and " + e.getKey()
                + " (the latter fired at " + firedAt + ")");
          }
        }
      }
      prev = e.getKey();
    }
    return new Ticks(byTick.size(), missing, doubled, collapsed);
  }

  /**
   * One execution of a concurrency-limited step: start and end on the database clock.
   *
   * @param end null when never recorded (the worker was killed mid-step)
   */
  record Span(String runId, int attempt, String key, Instant start, Instant end) {}

  /**
   * What the concurrency check found.
   *
   * @param max the most runs of one key executing at one instant
   * @param staleOverlaps two executions of one run at once (a lease expired while the old attempt still ran)
   * @param violations instants at which a key had more runs executing than the limit
   */
  record Concurrency(int max, int staleOverlaps, int violations) {}

  /**
   * For each key, the most runs that had an execution in progress at one instant. The limit counts
   * runs: a run keeps its place from when it is let in until it finishes, and every execution lies
   * inside that span (it records its start after being dispatched, its end before reporting). An
   * execution cut short (SIGKILL: its end is never recorded) is taken to last until the run's next
   * attempt starts — the lease expiry that made room for that attempt — and two executions of one
   * run at once (a lease expired while the old attempt was still going) count once, as the one run
   * they are (reported as {@code staleOverlaps}, explained by the lease expiry). Ends sort before
   * starts at the same instant (the clock cannot order them).
   */
  static Concurrency concurrency(List<Span> spans, int limit, List<String> problems) {
    Map<String, List<Span>> byRun = new HashMap<>();
    for (Span s : spans) byRun.computeIfAbsent(s.runId(), k -> new ArrayList<>()).add(s);
    record Event(Instant at, boolean enter, String runId, String key) {}
    Map<String, List<Event>> byKey = new HashMap<>();
    for (List<Span> run : byRun.values()) {
      run.sort(Comparator.comparing(Span::start));
      for (int i = 0; i < run.size(); i++) {
        Span s = run.get(i);
        Instant end = s.end() != null ? s.end() : i + 1 < run.size() ? run.get(i + 1).start() : null;
        if (end == null) continue; // cut short and never retried: nothing to measure
        List<Event> events = byKey.computeIfAbsent(s.key(), k -> new ArrayList<>());
        events.add(new Event(s.start(), true, s.runId(), s.key()));
        events.add(new Event(end, false, s.runId(), s.key()));
      }
    }
    int max = 0, stale = 0, violations = 0;
    for (List<Event> events : byKey.values()) {
      events.sort(Comparator.comparing(Event::at).thenComparing(Event::enter));
      Map<String, Integer> open = new HashMap<>();
      for (Event e : events) {
        if (e.enter()) {
          if (open.merge(e.runId(), 1, Integer::sum) > 1) stale++;
          max = Math.max(max, open.size());
          if (open.size() > limit && violations++ < 5) {
            note(problems, "concurrency key " + e.key() + ": " + open.size() + " runs executing at " + e.at() + ": "
                + open.keySet());
          }
        } else {
          open.computeIfPresent(e.runId(), (k, n) -> n > 1 ? n - 1 : null);
        }
      }
    }
    return new Concurrency(max, stale, violations);
  }

  /**
   * One execution of a rate-limited step, with the grant its attempt carried.
   *
   * @param key the bucket key granted ({@code null}: the attempt carried no grant)
   * @param windowStartMs start of the window the units were counted in (database clock)
   * @param start when the execution started (ledger, database clock)
   */
  record Grant(String runId, int attempt, String key, long windowStartMs, int units, Instant start) {}

  /**
   * What the rate check found.
   *
   * @param max the most units granted to one key in one window (executions that ran; the limit is
   *     the capacity)
   * @param violations (key, window) pairs over the capacity
   * @param unverifiable executions that carried no grant, or one that cannot be right (a window
   *     starting more than a second after the execution started)
   * @param startsMax information: the most executions of one key that started in one wall-clock
   *     second (database clock)
   * @param lateMaxMs information: the longest an execution started after the end of its granted window
   */
  record Rates(int max, int violations, int unverifiable, int startsMax, long lateMaxMs) {}

  /**
   * Whether the limiter ever granted more than {@code capacity} units of one key in one window.
   *
   * <p>Why grants and not start times: units are taken when the server hands a step out (the claim,
   * on the database clock), and the worker starts it later — milliseconds normally, but under
   * SIGKILLs, a PostgreSQL restart and two busy cores that delay can exceed the policy's end-of-window
   * guard (200 ms), so a step granted at the end of window w may start in window w+1, on top of
   * w+1's own capacity. Counting start times per wall-clock second would then fail although the
   * limiter did exactly what it promises. Instead each attempt carries the window its units were
   * counted in (StartStep.rate_limit_grants), the step writes it to the ledger, and this counts
   * grants per (key, window): that is exact, cannot fail spuriously, and catches every over-grant
   * among executions that ran (two replicas deciding on stale counts, a lost bucket lock, a wrong
   * window length all show up as a window with more grants than the capacity). An executed attempt
   * whose grant was lost would be missing from the counts, so an execution without a grant is an
   * error too. Executions of one attempt count once (one grant); a re-execution after a lease expiry
   * is a new attempt, granted — and consuming units — again, in its own window, so it counts there.
   * Start times per second are reported as information.
   */
  static Rates rates(List<Grant> executions, int capacity, long windowMs, List<String> problems) {
    record Window(String key, long startMs) {}
    Map<Window, Map<String, Integer>> granted = new HashMap<>(); // window -> "run/attempt" -> units
    Map<String, Map<Long, Integer>> startsPerSecond = new HashMap<>();
    int unverifiable = 0;
    long lateMax = 0;
    for (Grant g : executions) {
      long startMs = g.start().toEpochMilli();
      startsPerSecond.computeIfAbsent(String.valueOf(g.key()), k -> new HashMap<>())
          .merge(Math.floorDiv(startMs, 1000), 1, Integer::sum);
      // A window after the start cannot be the one granted (both instants are on the database clock;
      // a second of slack for clock adjustments).
      if (g.key() == null || g.windowStartMs() > startMs + 1000) {
        if (unverifiable++ < 5) {
          note(problems, "rate: run " + g.runId() + " attempt " + g.attempt() + " started at " + g.start()
              + (g.key() == null ? " without a grant" : " with a grant for the later window " + g.windowStartMs()));
        }
        continue;
      }
      lateMax = Math.max(lateMax, startMs - (g.windowStartMs() + windowMs));
      granted.computeIfAbsent(new Window(g.key(), g.windowStartMs()), w -> new HashMap<>())
          .put(g.runId() + "/" + g.attempt(), g.units());
    }
    int max = 0, violations = 0;
    for (var e : granted.entrySet()) {
      int units = e.getValue().values().stream().mapToInt(Integer::intValue).sum();
      max = Math.max(max, units);
      if (units > capacity && violations++ < 5) {
        note(problems, "rate limit key " + e.getKey().key() + ": " + units + " units granted in the window starting "
            + Instant.ofEpochMilli(e.getKey().startMs()) + " (capacity " + capacity + "): " + e.getValue().keySet());
      }
    }
    int startsMax = startsPerSecond.values().stream().flatMap(m -> m.values().stream()).mapToInt(Integer::intValue)
        .max().orElse(0);
    return new Rates(max, violations, unverifiable, startsMax, Math.max(0, lateMax));
  }

  private static void note(List<String> problems, String s) {
    if (problems.size() < 20) problems.add(s);
  }
}
