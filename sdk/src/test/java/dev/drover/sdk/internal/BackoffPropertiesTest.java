package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class BackoffPropertiesTest {

  @Property
  void delayIsAlwaysWithinBounds(
      @ForAll @IntRange(min = 0, max = 10_000) int attempt,
      @ForAll @LongRange(min = 1, max = 1_000_000) long min,
      @ForAll @LongRange(min = 0, max = 10_000_000) long extra,
      @ForAll @DoubleRange(min = 0, max = 1) double jitter,
      @ForAll @DoubleRange(min = 0, max = 1, maxIncluded = false) double random) {
    long max = min + extra;
    long d = Backoff.delayMs(attempt, min, max, jitter, random);
    assertThat(d).isBetween(min, max);
  }

  @Property
  void withoutJitterDelaysNeverShrink(
      @ForAll @IntRange(min = 0, max = 200) int attempt,
      @ForAll @LongRange(min = 1, max = 10_000) long min,
      @ForAll @LongRange(min = 0, max = 100_000) long extra) {
    long max = min + extra;
    assertThat(Backoff.delayMs(attempt + 1, min, max, 0, 0))
        .isGreaterThanOrEqualTo(Backoff.delayMs(attempt, min, max, 0, 0));
  }

  @Property(tries = 200)
  void statefulBackoffStaysWithinBounds(
      @ForAll @LongRange(min = 1, max = 1_000) long min,
      @ForAll @LongRange(min = 0, max = 10_000) long extra,
      @ForAll @IntRange(min = 1, max = 100) int calls) {
    Backoff b = new Backoff(min, min + extra, 0.5);
    for (int i = 0; i < calls; i++) {
      assertThat(b.next()).isBetween(min, min + extra);
    }
  }
}
