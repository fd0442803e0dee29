package dev.drover.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.ScheduleInfo;
import dev.drover.sdk.ScheduleStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover schedule create|list|show|reschedule|delete}: one-time runs at an instant. */
@Command(
    name = "schedule",
    mixinStandardHelpOptions = true,
    description = "Manages one-time schedules: run a workflow once, at an instant or after a delay.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      ScheduleCommand.Create.class,
      ScheduleCommand.ListSchedules.class,
      ScheduleCommand.Show.class,
      ScheduleCommand.Reschedule.class,
      ScheduleCommand.Delete.class
    },
    footer = {
      "",
      "Examples:",
      "  drover schedule create reminder --in 10m --input '{\"user\":\"u-1\"}'",
      "  drover schedule create report --at 2030-01-31T07:00:00Z",
      "  drover schedule reschedule <id> --in 1h"
    })
final class ScheduleCommand {

  /** When: an instant or a delay (exactly one). */
  static final class When {
    @Option(names = "--at", paramLabel = "INSTANT", required = true,
        description = "ISO-8601 instant, e.g. 2030-01-31T07:00:00Z or 2030-01-31T08:00:00+01:00.")
    String at;

    @Option(names = "--in", paramLabel = "DURATION", required = true, converter = DurationConverter.class,
        description = "Delay from now on the server's clock, e.g. 30s, 10m, 2h.")
    Duration in;

    Instant instant() {
      try {
        return java.time.OffsetDateTime.parse(at).toInstant();
      } catch (DateTimeParseException e) {
        throw new Main.UsageException("--at: expected an ISO-8601 instant such as 2030-01-31T07:00:00Z, got '" + at + "'");
      }
    }
  }

  /** {@code drover schedule create}. */
  @Command(name = "create", mixinStandardHelpOptions = true, description = "Schedules one run and prints the schedule's id.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "WORKFLOW", description = "Workflow to run.")
    String workflow;

    @ArgGroup(exclusive = true, multiplicity = "1")
    When when;

    @Option(names = "--input", paramLabel = "JSON", description = "Run input, JSON text or @FILE (default {}).")
    String input;

    @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Metadata of the run (repeatable).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      JsonNode in = input == null ? null : CronCommand.readJson("--input", input);
      Instant at = when.in == null ? when.instant() : null;
      try (DroverClient c = client.connect()) {
        ScheduleInfo s = at == null ? c.schedule(workflow, in, when.in, metadata) : c.schedule(workflow, in, at, metadata);
        print(spec.commandLine().getOut(), s, json);
        return 0;
      }
    }
  }

  /** {@code drover schedule list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists schedules, soonest first.")
  static final class ListSchedules implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--workflow", paramLabel = "NAME", description = "Only schedules of this workflow.")
    String workflow;

    @Option(names = "--status", paramLabel = "STATUS", description = "Only schedules in this status: ${COMPLETION-CANDIDATES}.")
    ScheduleStatus status;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most N (1-1000, default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      if (limit < 1 || limit > 1000) {
        throw new Main.UsageException("--limit: must be between 1 and 1000, got " + limit);
      }
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        List<ScheduleInfo> list = c.listSchedules(workflow, status, limit);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("schedules");
          list.forEach(s -> arr.add(scheduleJson(s)));
          out.println(Output.json(o));
        } else if (list.isEmpty()) {
          out.println("no schedules");
        } else {
          List<String[]> rows = new ArrayList<>();
          rows.add(new String[] {"ID", "WORKFLOW", "FIRE AT", "STATUS", "RUN"});
          for (ScheduleInfo s : list) {
            rows.add(new String[] {s.id(), s.workflowName(), Output.time(s.fireAt()), String.valueOf(s.status()),
                s.runId() == null ? (s.error() == null ? "-" : Output.oneLine(s.error())) : s.runId()});
          }
          Output.table(out, rows);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover schedule show}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one schedule (and its run once fired).")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "SCHEDULE_ID", description = "The schedule's id.")
    String id;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.getSchedule(id), json);
        return 0;
      }
    }
  }

  /** {@code drover schedule reschedule}. */
  @Command(name = "reschedule", mixinStandardHelpOptions = true, description = "Moves a schedule that has not fired yet.")
  static final class Reschedule implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "SCHEDULE_ID", description = "The schedule's id.")
    String id;

    @ArgGroup(exclusive = true, multiplicity = "1")
    When when;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      Instant at = when.in == null ? when.instant() : null;
      try (DroverClient c = client.connect()) {
        ScheduleInfo s = at == null ? c.reschedule(id, when.in) : c.reschedule(id, at);
        print(spec.commandLine().getOut(), s, json);
        return 0;
      }
    }
  }

  /** {@code drover schedule delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Cancels a schedule that has not fired yet.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "SCHEDULE_ID", description = "The schedule's id.")
    String id;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        c.deleteSchedule(id);
        spec.commandLine().getOut().println("deleted " + id);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  static void print(PrintWriter out, ScheduleInfo s, boolean json) {
    if (json) {
      out.println(Output.json(scheduleJson(s)));
    } else {
      out.println("Schedule  " + s.id());
      out.println("Workflow  " + s.workflowName());
      out.println("Fire at   " + Output.time(s.fireAt()) + "  (" + s.fireAt() + ")");
      out.println("Status    " + s.status());
      out.println("Input     " + s.inputJson());
      if (!s.metadata().isEmpty()) {
        out.println("Metadata  " + s.metadata());
      }
      if (s.runId() != null) {
        out.println("Run       " + s.runId() + "  (fired " + Output.time(s.firedAt()) + ")");
      }
      if (s.error() != null) {
        out.println("Error     " + Output.oneLine(s.error()));
      }
    }
    out.flush();
  }

  static ObjectNode scheduleJson(ScheduleInfo s) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("id", s.id());
    o.put("workflow", s.workflowName());
    o.set("input", Output.embed(s.inputJson()));
    ObjectNode md = o.putObject("metadata");
    s.metadata().forEach(md::put);
    o.put("fire_at", Output.iso(s.fireAt()));
    o.put("status", String.valueOf(s.status()));
    o.put("run_id", s.runId());
    o.put("fired_at", Output.iso(s.firedAt()));
    o.put("error", s.error());
    o.put("created_at", Output.iso(s.createdAt()));
    return o;
  }
}
