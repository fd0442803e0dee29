package dev.drover.sdk.internal;

import dev.drover.proto.v1.CronSchedule;
import dev.drover.sdk.Cron;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the {@link Cron} annotations of a workflow class into the protocol's {@link CronSchedule}s.
 * Checks what can be checked without a cron parser (field count, zone, JSON input, unique names)
 * so most mistakes fail at startup; the server parses the expression itself when the worker
 * registers, and refuses the registration naming the cron when it is invalid.
 *
 * <pre>{@code
 * List<CronSchedule> crons = CronAnnotations.read(OrderReport.class, "workflow 'report'");
 * }</pre>
 */
public final class CronAnnotations {
  private CronAnnotations() {}

  /** The class's crons in declaration order; {@code where} prefixes error messages. */
  public static List<CronSchedule> read(Class<?> type, String where) {
    Cron[] crons = type.getAnnotationsByType(Cron.class);
    List<CronSchedule> out = new ArrayList<>(crons.length);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < crons.length; i++) {
      Cron c = crons[i];
      String at = where + ", @Cron(\"" + c.value() + "\")";
      String expr = c.value().trim().replaceAll("\\s+", " ");
      int fields = expr.isEmpty() ? 0 : expr.split(" ").length;
      if (!expr.startsWith("@") && fields != 5 && fields != 6) {
        throw new IllegalArgumentException(at + ": expected 5 fields (minute hour day-of-month month day-of-week)"
            + " or 6 with seconds first, got " + fields);
      }
      String zone = c.timeZone().isBlank() ? "UTC" : c.timeZone().trim();
      try {
        ZoneId.of(zone);
      } catch (DateTimeException e) {
        throw new IllegalArgumentException(at + ": unknown timeZone '" + zone + "' (use an IANA name such as Europe/Berlin)", e);
      }
      Json.tree(c.input(), "input of " + at);
      String name = c.name().isBlank() ? ("UTC".equals(zone) ? expr : expr + " " + zone) : c.name().trim();
      if (!names.add(name)) {
        throw new IllegalArgumentException(at + ": two crons named '" + name + "' (give each a distinct name)");
      }
      out.add(CronSchedule.newBuilder()
          .setExpression(expr)
          .setTimeZone(zone)
          .setInputJson(c.input().isBlank() ? "{}" : c.input())
          .setName(c.name().trim())
          .setMissedTicks(c.missedTicks().wireName())
          .build());
    }
    return out;
  }
}
