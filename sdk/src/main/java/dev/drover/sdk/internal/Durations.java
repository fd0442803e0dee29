package dev.drover.sdk.internal;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the human-friendly durations used in annotations: {@code "250ms"}, {@code "30s"},
 * {@code "1.5s"}, {@code "5m"}, {@code "1h"}, {@code "1d"}, or ISO-8601 such as {@code "PT30S"}.
 *
 * <pre>{@code
 * Duration d = Durations.parse("250ms");
 * }</pre>
 */
public final class Durations {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)");

  private Durations() {}

  /**
   * Parses {@code text}; blank gives {@link Duration#ZERO} (meaning "none").
   *
   * @throws IllegalArgumentException for anything else that is not a non-negative duration
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      return Duration.ZERO;
    }
    String t = text.trim();
    Matcher m = SIMPLE.matcher(t);
    Duration d;
    if (m.matches()) {
      BigDecimal amount = new BigDecimal(m.group(1));
      long millisPerUnit =
          switch (m.group(2)) {
            case "ms" -> 1L;
            case "s" -> 1_000L;
            case "m" -> 60_000L;
            case "h" -> 3_600_000L;
            default -> 86_400_000L;
          };
      try {
        d = Duration.ofMillis(amount.multiply(BigDecimal.valueOf(millisPerUnit)).longValueExact());
      } catch (ArithmeticException e) {
        throw invalid(text);
      }
    } else if (t.startsWith("P") || t.startsWith("p")) {
      try {
        d = Duration.parse(t);
      } catch (DateTimeParseException e) {
        throw invalid(text);
      }
    } else {
      throw invalid(text);
    }
    if (d.isNegative()) {
      throw invalid(text);
    }
    return d;
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "invalid duration \"" + text + "\" (expected e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or \"PT30S\")");
  }
}
