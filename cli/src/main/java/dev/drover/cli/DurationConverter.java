package dev.drover.cli;

import dev.drover.server.config.ConfigException;
import dev.drover.server.config.ServerConfig;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses "500ms", "30s", "5m", "2h", "1d", a plain number of seconds, or ISO-8601 ("PT30S"): the same
 * syntax as the server's DROVER_* duration settings, parsed by the same code.
 */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      // An empty value would mean "unset" to the server's parser; here it is an error.
      return ServerConfig.duration("duration", value.trim().isEmpty() ? "x" : value);
    } catch (ConfigException e) {
      throw new TypeConversionException("expected a duration like 500ms, 30s, 5m or 2h, got '" + value + "'");
    }
  }
}
