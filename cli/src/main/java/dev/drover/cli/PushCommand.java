package dev.drover.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.EventRequest;
import dev.drover.sdk.PushResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover push <event>}: pushes an event and prints the runs it started. */
@Command(
    name = "push",
    mixinStandardHelpOptions = true,
    description = {
      "Pushes an event: it is stored and every workflow listening to it starts, in one transaction.",
      "Prints the event id and the runs it started."
    })
final class PushCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "EVENT", description = "Event name, e.g. order.paid.")
  String name;

  @Option(names = "--payload", paramLabel = "JSON", description = "Payload as JSON text, or @FILE to read it from a file (default {}).")
  String payload;

  @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Metadata entry (repeatable).")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Option(names = "--idempotency-key", paramLabel = "KEY", description = "A second push with the same key returns the first event and starts nothing.")
  String idempotencyKey;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() {
    Logging.quiet();
    PrintWriter out = spec.commandLine().getOut();
    Object body = readPayload();
    EventRequest request = new EventRequest(name, body, metadata, idempotencyKey);
    try (DroverClient c = client.connect()) {
      PushResult r = c.push(request);
      if (json) {
        ObjectNode o = Output.MAPPER.createObjectNode();
        o.put("event_id", r.eventId());
        o.put("created", r.created());
        r.runIds().forEach(o.putArray("run_ids")::add);
        out.println(Output.json(o));
      } else {
        out.println("Event  " + r.eventId() + (r.created() ? "" : "  (idempotency key matched an existing event)"));
        if (r.runIds().isEmpty()) {
          out.println("Runs   none (no workflow listens to '" + name + "')");
        } else {
          out.println("Runs   " + String.join("\n       ", r.runIds()));
        }
      }
      out.flush();
      return 0;
    }
  }

  private Object readPayload() {
    if (payload == null) {
      return null;
    }
    String text = payload;
    if (text.startsWith("@")) {
      try {
        text = Files.readString(Path.of(text.substring(1)));
      } catch (IOException e) {
        throw new Main.UsageException("--payload: cannot read " + text.substring(1) + ": " + e.getMessage());
      }
    }
    try {
      Output.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new Main.UsageException("--payload is not valid JSON: " + Main.firstLine(e.getOriginalMessage()));
    }
    // Sent as written: numbers keep their exact text (12.50 stays 12.50).
    return new RawValue(text.strip());
  }
}
