package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.EventInfo;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover events list|show|replay}. */
@Command(
    name = "events",
    mixinStandardHelpOptions = true,
    description = "Lists, inspects and replays events.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {EventsCommand.ListEvents.class, EventsCommand.ShowEvent.class, EventsCommand.ReplayEvent.class})
final class EventsCommand {

  /** {@code drover events list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists recent events, newest first.")
  static final class ListEvents implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--name", paramLabel = "NAME", description = "Only events of this name, or matching a wildcard such as order.*.")
    String name;

    @Option(names = "--before", paramLabel = "EVENT_ID", description = "Only events older than this one (paging).")
    String before;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "At most N events (1-1000, default ${DEFAULT-VALUE}).")
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
        List<EventInfo> events = c.listEvents(name, before, limit);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("events");
          events.forEach(e -> arr.add(eventJson(e)));
          out.println(Output.json(o));
        } else if (events.isEmpty()) {
          out.println("no events");
        } else {
          List<String[]> rows = new ArrayList<>();
          rows.add(new String[] {"ID", "NAME", "CREATED", "PAYLOAD"});
          for (EventInfo e : events) {
            rows.add(new String[] {e.id(), e.name(), Output.time(e.createdAt()), Output.oneLine(e.payloadJson())});
          }
          Output.table(out, rows);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover events show <id>}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one event with the runs it started.")
  static final class ShowEvent implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "EVENT_ID", description = "The event's id.")
    String eventId;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        EventInfo e = c.getEvent(eventId);
        if (json) {
          out.println(Output.json(eventJson(e)));
        } else {
          out.println("Event     " + e.id());
          out.println("Name      " + e.name());
          out.println("Created   " + Output.time(e.createdAt()));
          out.println("Payload   " + Output.json(Output.embed(e.payloadJson())));
          if (!e.metadata().isEmpty()) {
            out.println("Metadata  " + Output.json(Output.object(e.metadata())));
          }
          if (e.idempotencyKey() != null) {
            out.println("Key       " + e.idempotencyKey());
          }
          out.println();
          if (e.runIds().isEmpty()) {
            out.println("It started no runs.");
          } else {
            List<dev.drover.sdk.RunInfo> runs = new ArrayList<>();
            for (String id : e.runIds()) {
              runs.add(c.getRun(id));
            }
            Output.printRunList(out, runs);
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover events replay <id>}. */
  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Starts the workflows listening to the event again, with new runs linked to it.")
  static final class ReplayEvent implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "EVENT_ID", description = "The event's id.")
    String eventId;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        List<String> runIds = c.replayEvent(eventId);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          runIds.forEach(o.putArray("run_ids")::add);
          out.println(Output.json(o));
        } else if (runIds.isEmpty()) {
          out.println("No workflow listens to this event now: nothing started.");
        } else {
          runIds.forEach(out::println);
        }
        out.flush();
        return 0;
      }
    }
  }

  static ObjectNode eventJson(EventInfo e) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("id", e.id());
    o.put("name", e.name());
    o.set("payload", Output.embed(e.payloadJson()));
    o.set("metadata", Output.object(e.metadata()));
    o.put("idempotency_key", e.idempotencyKey());
    o.put("created_at", Output.iso(e.createdAt()));
    ArrayNode runs = o.putArray("run_ids");
    e.runIds().forEach(runs::add);
    return o;
  }
}
