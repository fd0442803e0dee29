package dev.drover.server.engine;

import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed cron expression in its time zone: which tick comes after an instant, which was the last one.
 * Five fields (minute precision, as in crontab) or six with seconds first (as in Spring); day-of-month
 * and day-of-week combine with OR like Vixie cron. Time zones and DST come from java.time via
 * cron-utils: a wall-clock time that does not exist on a spring-forward day is skipped, and one that
 * occurs twice on a fall-back day fires once.
 */
final class CronSpec {
    private static final CronParser FIVE = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(com.cronutils.model.CronType.UNIX));
    private static final CronParser SIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(com.cronutils.model.CronType.SPRING53));
    /** cron-utils does not accept the crontab nicknames; they are short enough to translate here. */
    private static final Map<String, String> NICKNAMES = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    final String expression;
    final ZoneId zone;
    private final ExecutionTime times;

    private CronSpec(String expression, ZoneId zone, ExecutionTime times) {
        this.expression = expression;
        this.zone = zone;
        this.times = times;
    }

    /**
     * Parses and checks; INVALID_ARGUMENT names {@code field}.expression or .time_zone. An empty zone
     * means UTC.
     */
    static CronSpec parse(String field, String expression, String timeZone) {
        String prefix = field.isEmpty() ? "" : field + ".";
        if (expression == null || expression.isBlank()) throw EngineException.invalid(prefix + "expression: must not be empty");
        Text.check(prefix + "expression", expression);
        String expr = expression.trim().replaceAll("\\s+", " ");
        if (expr.length() > 200) throw EngineException.invalid(prefix + "expression: longer than 200 characters");
        ZoneId zone = zone(prefix + "time_zone", timeZone);
        String expanded = NICKNAMES.getOrDefault(expr.toLowerCase(java.util.Locale.ROOT), expr);
        int fields = expanded.split(" ").length;
        com.cronutils.model.Cron cron;
        try {
            cron = switch (fields) {
                case 5 -> FIVE.parse(expanded);
                case 6 -> SIX.parse(expanded);
                default -> throw new IllegalArgumentException("expected 5 fields (minute hour day-of-month month day-of-week) "
                        + "or 6 with seconds first, got " + fields);
            };
            cron.validate();
        } catch (IllegalArgumentException e) {
            throw EngineException.invalid(prefix + "expression: '" + Text.clip(expr, 100) + "' is not a valid cron expression: "
                    + Text.clip(e.getMessage(), 300));
        }
        CronSpec spec = new CronSpec(expr, zone, ExecutionTime.forCron(cron));
        if (spec.next(Instant.now()).isEmpty()) {
            throw EngineException.invalid(prefix + "expression: '" + Text.clip(expr, 100) + "' never fires");
        }
        return spec;
    }

    static ZoneId zone(String field, String timeZone) {
        if (timeZone == null || timeZone.isBlank()) return ZoneId.of("UTC");
        Text.check(field, timeZone);
        try {
            return ZoneId.of(timeZone.trim());
        } catch (DateTimeException e) {
            throw EngineException.invalid(field + ": unknown time zone '" + Text.clip(timeZone, 80)
                    + "' (use an IANA name such as Europe/Berlin, or UTC)");
        }
    }

    /** The first tick strictly after {@code t}. */
    Optional<Instant> next(Instant t) {
        ZonedDateTime from = t.truncatedTo(ChronoUnit.SECONDS).atZone(zone);
        return times.nextExecution(from).map(ZonedDateTime::toInstant);
    }

    /** The last tick at or before {@code t}. */
    Optional<Instant> latest(Instant t) {
        ZonedDateTime before = t.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1).atZone(zone);
        return times.lastExecution(before).map(ZonedDateTime::toInstant);
    }
}
