package dev.drover.cli;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses "500ms", "30s", "5m", "2h", "1d", a plain number of seconds, or ISO-8601 ("PT30S"). */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String v = value.trim();
    try {
      if (v.startsWith("P") || v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(java.util.Locale.ROOT));
      }
      int i = 0;
      while (i < v.length() && Character.isDigit(v.charAt(i))) {
        i++;
      }
      if (i == 0) {
        throw new NumberFormatException();
      }
      long n = Long.parseLong(v.substring(0, i));
      return switch (v.substring(i).trim()) {
        case "ms" -> Duration.ofMillis(n);
        case "s", "" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        case "d" -> Duration.ofDays(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new TypeConversionException("expected a duration like 500ms, 30s, 5m or 2h, got '" + value + "'");
    }
  }
}
