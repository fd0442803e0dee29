package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.WorkerInfo;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover workers list|pause|resume|drain}. */
@Command(
    name = "workers",
    mixinStandardHelpOptions = true,
    description = "Lists workers and pauses, resumes or drains them (no new work; in-flight steps finish).",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      WorkersCommand.ListWorkers.class,
      WorkersCommand.Pause.class,
      WorkersCommand.Resume.class,
      WorkersCommand.Drain.class
    },
    footer = {
      "",
      "Examples:",
      "  drover workers list",
      "  drover workers drain 5cb7ca67-6ae4-49f5-bcdb-7d3c5d5a7d2e --wait 5m   # then stop its process",
      "  drover workers resume 5cb7ca67-6ae4-49f5-bcdb-7d3c5d5a7d2e"
    })
final class WorkersCommand {

  /** {@code drover workers list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists the registered workers with their labels, slots in use and state.")
  static final class ListWorkers implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        List<WorkerInfo> workers = c.listWorkers();
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("workers");
          workers.forEach(w -> arr.add(workerJson(w)));
          out.println(Output.json(o));
        } else if (workers.isEmpty()) {
          out.println("no workers");
        } else {
          List<String[]> rows = new ArrayList<>();
          rows.add(new String[] {"ID", "NAME", "STATE", "SLOTS", "IN FLIGHT", "LAST HEARTBEAT", "LABELS"});
          for (WorkerInfo w : workers) {
            rows.add(new String[] {w.id(), w.name(), state(w), w.usedSlots() + "/" + w.slots(), "" + w.inFlight(),
                Output.time(w.lastHeartbeat()) + (w.alive() ? "" : " (silent)"), labels(w)});
          }
          Output.table(out, rows);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover workers pause}. */
  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Gives the worker no new work until resumed; its in-flight steps finish.")
  static final class Pause implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "WORKER_ID", description = "The worker's id (see 'drover workers list').")
    String id;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.pauseWorker(id), json);
        return 0;
      }
    }
  }

  /** {@code drover workers resume}. */
  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Lets a paused or draining worker take work again.")
  static final class Resume implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "WORKER_ID", description = "The worker's id.")
    String id;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.resumeWorker(id), json);
        return 0;
      }
    }
  }

  /** {@code drover workers drain}. */
  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = "Pauses the worker and reports when its in-flight steps are done (then stop its process).")
  static final class Drain implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "WORKER_ID", description = "The worker's id.")
    String id;

    @Option(names = "--wait", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "Wait up to this long (at most 5m) for the worker to be drained, e.g. 30s; exit code 1 if it is not.")
    Duration wait;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        WorkerInfo w = wait == null ? c.drainWorker(id) : c.drainWorker(id, wait);
        print(spec.commandLine().getOut(), w, json);
        return wait == null || w.drained() ? 0 : Main.EXIT_FAILURE;
      }
    }
  }

  static String state(WorkerInfo w) {
    String s = w.state().name().toLowerCase(Locale.ROOT);
    return w.drained() ? "drained" : s;
  }

  static String labels(WorkerInfo w) {
    return w.labels().isEmpty() ? "-"
        : w.labels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
  }

  static void print(PrintWriter out, WorkerInfo w, boolean json) {
    if (json) {
      out.println(Output.json(workerJson(w)));
    } else {
      out.println("Worker     " + w.id());
      out.println("Name       " + w.name());
      out.println("State      " + state(w));
      out.println("Slots      " + w.usedSlots() + " of " + w.slots() + " in use, " + w.inFlight() + " step(s) in flight");
      out.println("Labels     " + labels(w));
      out.println("Heartbeat  " + Output.time(w.lastHeartbeat()) + (w.alive() ? "" : " (silent)"));
    }
    out.flush();
  }

  static ObjectNode workerJson(WorkerInfo w) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("id", w.id());
    o.put("name", w.name());
    o.put("state", w.state().name().toLowerCase(Locale.ROOT));
    o.put("drained", w.drained());
    o.put("slots", w.slots());
    o.put("used_slots", w.usedSlots());
    o.put("in_flight", w.inFlight());
    ObjectNode labels = o.putObject("labels");
    w.labels().forEach(labels::put);
    o.put("alive", w.alive());
    o.put("last_heartbeat", Output.iso(w.lastHeartbeat()));
    o.put("registered_at", Output.iso(w.registeredAt()));
    ArrayNode actions = o.putArray("actions");
    w.actions().forEach(actions::add);
    o.put("sdk", w.sdk());
    return o;
  }
}
