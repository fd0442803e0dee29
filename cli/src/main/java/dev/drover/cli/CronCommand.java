package dev.drover.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.CronInfo;
import dev.drover.sdk.CronRequest;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.MissedTicks;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover cron create|list|show|pause|resume|delete}. */
@Command(
    name = "cron",
    mixinStandardHelpOptions = true,
    description = "Manages crons: workflows started on a schedule, each tick exactly once.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      CronCommand.Create.class,
      CronCommand.ListCrons.class,
      CronCommand.Show.class,
      CronCommand.Pause.class,
      CronCommand.Resume.class,
      CronCommand.Delete.class
    },
    footer = {
      "",
      "Examples:",
      "  drover cron create report '0 7 * * MON-FRI' --time-zone Europe/Berlin --input '{\"kind\":\"daily\"}'",
      "  drover cron create heartbeat '*/10 * * * * *' --missed-ticks skip   # 6 fields: seconds first",
      "  drover cron list --workflow report"
    })
final class CronCommand {

  /** {@code drover cron create}. */
  @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a cron and prints its id.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "WORKFLOW", description = "Workflow to start, e.g. report.")
    String workflow;

    @Parameters(index = "1", paramLabel = "EXPRESSION",
        description = "5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; quote it.")
    String expression;

    @Option(names = "--name", paramLabel = "NAME", description = "Unique per workflow (default: the expression).")
    String name;

    @Option(names = "--time-zone", paramLabel = "ZONE", description = "IANA time zone, e.g. Europe/Berlin (default UTC).")
    String timeZone;

    @Option(names = "--input", paramLabel = "JSON", description = "Input of every run, JSON text or @FILE (default {}).")
    String input;

    @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Metadata of every run (repeatable).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(names = "--missed-ticks", paramLabel = "POLICY",
        description = "Ticks missed while no server ran: ${COMPLETION-CANDIDATES} (default fire_once: one run on recovery).")
    MissedTicks missedTicks = MissedTicks.FIRE_ONCE;

    @Option(names = "--paused", description = "Create it paused.")
    boolean paused;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      JsonNode in = input == null ? null : readJson("--input", input);
      CronRequest req = CronRequest.of(workflow, expression).withName(name).withTimeZone(timeZone).withInput(in)
          .withMetadata(metadata).withMissedTicks(missedTicks).withPaused(paused);
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.createCron(req), json);
        return 0;
      }
    }
  }

  /** {@code drover cron list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists crons with their next and last tick.")
  static final class ListCrons implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--workflow", paramLabel = "NAME", description = "Only crons of this workflow.")
    String workflow;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        List<CronInfo> crons = c.listCrons(workflow);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("crons");
          crons.forEach(x -> arr.add(cronJson(x)));
          out.println(Output.json(o));
        } else if (crons.isEmpty()) {
          out.println("no crons");
        } else {
          List<String[]> rows = new ArrayList<>();
          rows.add(new String[] {"ID", "WORKFLOW", "NAME", "EXPRESSION", "ZONE", "STATE", "NEXT", "LAST RUN"});
          for (CronInfo x : crons) {
            rows.add(new String[] {x.id(), x.workflowName(), x.name(), x.expression(), x.timeZone(), state(x),
                Output.time(x.nextFireAt()), x.lastRunId() == null ? "-" : x.lastRunId()});
          }
          Output.table(out, rows);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** A command that acts on one cron and prints it (show, pause, resume). */
  abstract static class OneCron implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "CRON_ID", description = "The cron's id.")
    String id;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    abstract CronInfo act(DroverClient c);

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), act(c), json);
        return 0;
      }
    }
  }

  /** {@code drover cron show}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one cron.")
  static final class Show extends OneCron {
    @Override
    CronInfo act(DroverClient c) {
      return c.getCron(id);
    }
  }

  /** {@code drover cron pause}. */
  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pauses a cron: it fires nothing until resumed.")
  static final class Pause extends OneCron {
    @Override
    CronInfo act(DroverClient c) {
      return c.pauseCron(id);
    }
  }

  /** {@code drover cron resume}. */
  @Command(name = "resume", mixinStandardHelpOptions = true,
      description = "Resumes a cron from now (the ticks of the paused period are not fired).")
  static final class Resume extends OneCron {
    @Override
    CronInfo act(DroverClient c) {
      return c.resumeCron(id);
    }
  }

  /** {@code drover cron delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Deletes a cron created at run time (a cron declared by a workflow can only be paused).")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "CRON_ID", description = "The cron's id.")
    String id;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        c.deleteCron(id);
        spec.commandLine().getOut().println("deleted " + id);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  static String state(CronInfo c) {
    return (c.paused() ? "paused" : "active") + (c.declaredByWorkflow() ? " (workflow)" : "");
  }

  static void print(PrintWriter out, CronInfo c, boolean json) {
    if (json) {
      out.println(Output.json(cronJson(c)));
    } else {
      out.println("Cron      " + c.id());
      out.println("Workflow  " + c.workflowName());
      out.println("Name      " + c.name());
      out.println("Schedule  " + c.expression() + "  (" + c.timeZone() + ")");
      out.println("State     " + state(c) + ", missed ticks: " + c.missedTicks().wireName());
      out.println("Input     " + c.inputJson());
      if (!c.metadata().isEmpty()) {
        out.println("Metadata  " + c.metadata());
      }
      out.println("Next      " + Output.time(c.nextFireAt()));
      out.println("Last      " + Output.time(c.lastTick()) + (c.lastRunId() == null ? "" : "  run " + c.lastRunId()));
      if (c.lastError() != null) {
        out.println("Error     " + Output.oneLine(c.lastError()));
      }
    }
    out.flush();
  }

  static ObjectNode cronJson(CronInfo c) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("id", c.id());
    o.put("workflow", c.workflowName());
    o.put("name", c.name());
    o.put("expression", c.expression());
    o.put("time_zone", c.timeZone());
    o.set("input", Output.embed(c.inputJson()));
    ObjectNode md = o.putObject("metadata");
    c.metadata().forEach(md::put);
    o.put("missed_ticks", c.missedTicks().wireName());
    o.put("paused", c.paused());
    o.put("source", c.declaredByWorkflow() ? "workflow" : "api");
    o.put("next_fire_at", Output.iso(c.nextFireAt()));
    o.put("last_tick", Output.iso(c.lastTick()));
    o.put("last_run_id", c.lastRunId());
    o.put("last_error", c.lastError());
    o.put("created_at", Output.iso(c.createdAt()));
    return o;
  }

  /** JSON text or @FILE, checked here so a typo is a usage error (exit 2), not a server error. */
  static JsonNode readJson(String option, String value) {
    String text = value;
    if (text.startsWith("@")) {
      try {
        text = Files.readString(Path.of(text.substring(1)));
      } catch (IOException e) {
        throw new Main.UsageException(option + ": cannot read " + text.substring(1) + ": " + e.getMessage());
      }
    }
    try {
      return Output.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new Main.UsageException(option + " is not valid JSON: " + Main.firstLine(e.getOriginalMessage()));
    }
  }
}
