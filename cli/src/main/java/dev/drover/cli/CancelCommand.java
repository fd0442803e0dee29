package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover cancel <id>}. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
    description = "Cancels a run; running steps are told to stop. A finished run is left as it is.")
final class CancelCommand implements Callable<Integer> {
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
      boolean cancelled = c.cancel(runId);
      RunInfo run = c.getRun(runId);
      if (json) {
        ObjectNode o = Output.MAPPER.createObjectNode();
        o.put("run_id", runId);
        o.put("cancelled", cancelled);
        o.put("status", run.status().name());
        out.println(Output.json(o));
      } else if (cancelled) {
        out.println("cancelled " + runId);
      } else {
        out.println("run " + runId + " had already finished (" + run.status() + "); nothing to cancel");
      }
      out.flush();
      return 0;
    }
  }
}
