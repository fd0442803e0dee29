package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover runs list|show}. */
@Command(
    name = "runs",
    mixinStandardHelpOptions = true,
    description = "Lists and inspects runs.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {RunsCommand.ListRuns.class, RunsCommand.ShowRun.class})
final class RunsCommand {

  /** {@code drover runs list}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists recent runs, newest first.")
  static final class ListRuns implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--workflow", paramLabel = "NAME", description = "Only runs of this workflow.")
    String workflow;

    @Option(names = "--status", paramLabel = "STATUS",
        description = "Only runs in this status: ${COMPLETION-CANDIDATES}.")
    RunStatus status;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "At most N runs (1-1000, default ${DEFAULT-VALUE}).")
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
        List<RunInfo> runs = c.listRuns(workflow, status, limit);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("runs");
          runs.forEach(r -> arr.add(Output.runJson(r)));
          out.println(Output.json(o));
        } else {
          Output.printRunList(out, runs);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover runs show <id>}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one run with its steps.")
  static final class ShowRun implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run's id.")
    String runId;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        RunInfo run = c.getRun(runId);
        if (json) {
          out.println(Output.json(Output.runJson(run)));
        } else {
          Output.printRun(out, run);
        }
        out.flush();
        return 0;
      }
    }
  }
}
