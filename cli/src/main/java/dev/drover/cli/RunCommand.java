package dev.drover.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover run <workflow>}: triggers a run, optionally waiting for its result. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Triggers a run of a workflow and prints its id.",
      "With --wait, waits for it to finish and prints its status, output and steps;"
          + " exits 1 if it failed, was cancelled or did not finish in time."
    })
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "WORKFLOW", description = "Workflow name, e.g. order.")
  String workflow;

  @Option(names = "--input", paramLabel = "JSON", description = "Run input as JSON text, or @FILE to read it from a file (default {}).")
  String input;

  @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Metadata entry (repeatable).")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Option(names = "--idempotency-key", paramLabel = "KEY", description = "A second trigger with the same key returns the first run.")
  String idempotencyKey;

  @Option(names = "--wait", description = "Wait for the run to finish.")
  boolean wait;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
      description = "How long --wait waits (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Logging.quiet();
    PrintWriter out = spec.commandLine().getOut();
    String inputJson = readInput();
    RunOptions options = RunOptions.defaults().withMetadata(metadata).withIdempotencyKey(idempotencyKey);
    try (DroverClient c = client.connect()) {
      RunHandle h = c.runJson(workflow, inputJson, options);
      if (!wait) {
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          o.put("run_id", h.runId());
          o.put("created", h.created());
          out.println(Output.json(o));
        } else {
          out.println(h.runId());
        }
        out.flush();
        return 0;
      }
      RunInfo info = c.awaitRun(h.runId(), timeout);
      boolean timedOut = !info.status().isFinal();
      if (json) {
        ObjectNode o = Output.runJson(info);
        o.put("created", h.created());
        o.put("timed_out", timedOut);
        out.println(Output.json(o));
      } else {
        if (!h.created()) {
          out.println("(idempotency key matched an existing run)");
        }
        Output.printRun(out, info);
        if (timedOut) {
          out.println();
          out.println("Still " + info.status() + " after " + Output.humanMillis(timeout.toMillis())
              + "; follow it with: drover runs show " + info.id());
        }
      }
      out.flush();
      return info.status() == RunStatus.SUCCEEDED ? 0 : Main.EXIT_FAILURE;
    }
  }

  private String readInput() {
    if (input == null) {
      return "";
    }
    String text = input;
    if (text.startsWith("@")) {
      try {
        text = Files.readString(Path.of(text.substring(1)));
      } catch (IOException e) {
        throw new Main.UsageException("--input: cannot read " + text.substring(1) + ": " + e.getMessage());
      }
    }
    try {
      Output.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new Main.UsageException("--input is not valid JSON: " + Main.firstLine(e.getOriginalMessage()));
    }
    return text;
  }
}
