package dev.drover.bench.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.bench.chaos.LedgerChecks.Span;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The chaos suite's flow-control checks catch what they are meant to catch, and only that. */
class LedgerChecksTest {
  static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");
  static final Duration SECOND = Duration.ofSeconds(1);
  static final Duration MISSED_AFTER = Duration.ofSeconds(5);

  final Map<Instant, Set<String>> runs = new HashMap<>();
  final Map<Instant, Instant> created = new HashMap<>();
  final List<String> problems = new ArrayList<>();

  /** Tick {@code s} seconds after T0 fired run {@code id}, {@code lateMs} after the tick. */
  void fired(int s, String id, long lateMs) {
    Instant tick = T0.plusSeconds(s);
    runs.computeIfAbsent(tick, k -> new java.util.LinkedHashSet<>()).add(id);
    created.merge(tick, tick.plusMillis(lateMs), (a, b) -> a.isBefore(b) ? a : b);
  }

  LedgerChecks.Ticks ticks() {
    return LedgerChecks.cronTicks(runs, created, SECOND, MISSED_AFTER, problems, s -> { });
  }

  @Test
  void everyTickOnceIsClean() {
    for (int s = 0; s < 10; s++) fired(s, "r" + s, 20);
    assertThat(ticks()).isEqualTo(new LedgerChecks.Ticks(10, 0, 0, 0));
    assertThat(problems).isEmpty();
  }

  @Test
  void aSkippedTickIsMissingAndATickFiredTwiceIsDoubled() {
    for (int s = 0; s < 10; s++) if (s != 4) fired(s, "r" + s, 20);
    fired(7, "again", 30);
    LedgerChecks.Ticks t = ticks();
    assertThat(t.missing()).isEqualTo(1);
    assertThat(t.doubled()).isEqualTo(1);
    assertThat(t.collapsed()).isZero();
    assertThat(problems).hasSize(2);
  }

  @Test
  void ticksFoldedByFireOnceAfterAnOutageAreCollapsedNotMissing() {
    for (int s = 0; s <= 3; s++) fired(s, "r" + s, 20);
    // Nothing could fire from 4 s to 12 s; at 12.3 s the scheduler found tick 4 more than 5 s late
    // and fired once, for the latest tick due (12).
    fired(12, "r12", 300);
    fired(13, "r13", 20);
    LedgerChecks.Ticks t = ticks();
    assertThat(t).isEqualTo(new LedgerChecks.Ticks(6, 0, 0, 8));
    assertThat(problems).isEmpty();
  }

  @Test
  void aGapFiredSoonerThanTheMissedThresholdIsMissing() {
    // Ticks 4 and 5 were not late enough to be missed by the policy: they had to fire, in order.
    for (int s = 0; s <= 3; s++) fired(s, "r" + s, 20);
    fired(6, "r6", 100);
    assertThat(ticks().missing()).isEqualTo(2);
  }

  static Span span(String run, int attempt, String key, long startMs, Long endMs) {
    return new Span(run, attempt, key, T0.plusMillis(startMs), endMs == null ? null : T0.plusMillis(endMs));
  }

  @Test
  void concurrencyCountsRunsExecutingAtOnce() {
    List<Span> spans = List.of(
        span("a", 1, "k", 0, 100L),
        span("b", 1, "k", 50, 150L),
        span("c", 1, "k", 100, 200L), // starts as a ends: not an overlap
        span("d", 1, "other", 60, 90L));
    LedgerChecks.Concurrency c = LedgerChecks.concurrency(spans, 2, problems);
    assertThat(c).isEqualTo(new LedgerChecks.Concurrency(2, 0, 0));

    List<Span> three = new ArrayList<>(spans);
    three.add(span("e", 1, "k", 120, 130L));
    LedgerChecks.Concurrency over = LedgerChecks.concurrency(three, 2, problems);
    assertThat(over.max()).isEqualTo(3);
    assertThat(over.violations()).isEqualTo(1);
    assertThat(problems).singleElement().asString().contains("concurrency key k: 3 runs");
  }

  @Test
  void aKilledAttemptHoldsItsRunsPlaceUntilTheNextAttemptAndCountsOnce() {
    List<Span> spans = List.of(
        span("a", 1, "k", 0, null), // worker killed: no end; lease expired, attempt 2 at 3000
        span("a", 2, "k", 3000, 3010L),
        span("b", 1, "k", 1000, 1010L),
        span("c", 1, "k", 2000, 2010L));
    assertThat(LedgerChecks.concurrency(spans, 2, problems)).isEqualTo(new LedgerChecks.Concurrency(2, 0, 0));

    // A third run while a's killed attempt still held its place: over the limit.
    List<Span> over = new ArrayList<>(spans);
    over.add(span("d", 1, "k", 1005, 1020L));
    assertThat(LedgerChecks.concurrency(over, 2, problems).violations()).isEqualTo(1);
  }

  @Test
  void twoAttemptsOfOneRunAtOnceAreOneRun() {
    // Attempt 1 lost its lease but still ran when attempt 2 started: one run, one place.
    List<Span> spans = List.of(
        span("a", 1, "k", 0, 5000L),
        span("a", 2, "k", 3000, 3100L),
        span("b", 1, "k", 3050, 3200L));
    LedgerChecks.Concurrency c = LedgerChecks.concurrency(spans, 2, problems);
    assertThat(c).isEqualTo(new LedgerChecks.Concurrency(2, 1, 0));
    assertThat(problems).isEmpty();
  }
}
