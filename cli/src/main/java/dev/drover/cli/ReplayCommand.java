package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover replay <run-id> [--from STEP]} or {@code drover replay --workflow W [filters]}. */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Runs finished runs again, in place: from the start, or --from a step (that step and its",
        "descendants run again; the steps before it keep their outputs).",
        "Give a RUN_ID, or --workflow with filters to replay every matching finished run."})
final class ReplayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", arity = "0..1", paramLabel = "RUN_ID", description = "The run to replay.")
  String runId;

  @Option(names = "--from", paramLabel = "STEP", description = "Replay from this step (default: from the start).")
  String fromStep;

  @Option(names = "--workflow", description = "Replay every finished run of this workflow matching the filters.")
  String workflow;

  @Option(names = "--status", description = "Filter: SUCCEEDED, FAILED or CANCELLED.")
  RunStatus status;

  @Option(names = "--created-after", paramLabel = "INSTANT", description = "Filter: created at or after (ISO-8601).")
  Instant createdAfter;

  @Option(names = "--created-before", paramLabel = "INSTANT", description = "Filter: created before (ISO-8601).")
  Instant createdBefore;

  @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Filter: metadata pair (repeatable).")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Option(names = "--limit", description = "At most this many runs (default ${DEFAULT-VALUE}).", defaultValue = "1000")
  int limit;

  @Option(names = "--wait", description = "With RUN_ID: wait for the replayed run to finish.")
  boolean wait;

  @Option(names = "--timeout", converter = DurationConverter.class, defaultValue = "5m",
      description = "How long --wait waits (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    Logging.quiet();
    if ((runId == null) == (workflow == null)) {
      throw new ParameterException(spec.commandLine(), "give either RUN_ID or --workflow");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (DroverClient c = client.connect()) {
      if (workflow != null) {
        List<String> ids = c.replayMatching(workflow, status, createdAfter, createdBefore, metadata, fromStep, limit);
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          o.set("run_ids", Output.MAPPER.valueToTree(ids));
          out.println(Output.json(o));
        } else {
          out.println("replayed " + ids.size() + " runs of " + workflow);
          ids.forEach(out::println);
        }
        out.flush();
        return 0;
      }
      RunInfo run = c.replay(runId, fromStep);
      if (wait) run = c.awaitRun(runId, timeout);
      if (json) {
        out.println(Output.json(Output.runJson(run)));
      } else if (wait) {
        Output.printRun(out, run);
      } else {
        out.println("replaying " + runId + (fromStep == null ? " from the start" : " from step " + fromStep));
      }
      out.flush();
      return wait && run.status() != RunStatus.SUCCEEDED ? 1 : 0;
    }
  }
}
