package dev.drover.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.StepInfo;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Human tables and machine JSON for runs and steps.
 *
 * <pre>{@code
 * Output.printRun(out, client.getRun(id));
 * out.println(Output.json(Output.runJson(run)));
 * }</pre>
 */
final class Output {
  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private Output() {}

  static String json(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses JSON text for embedding; text that is not JSON is embedded as a string. */
  static JsonNode embed(String jsonText) {
    if (jsonText == null || jsonText.isBlank()) {
      return F.nullNode();
    }
    try {
      return MAPPER.readTree(jsonText);
    } catch (JsonProcessingException e) {
      return TextNode.valueOf(jsonText);
    }
  }

  static ObjectNode runJson(RunInfo r) {
    ObjectNode o = F.objectNode();
    o.put("id", r.id());
    o.put("workflow", r.workflowName());
    o.put("version", r.workflowVersion());
    o.put("status", r.status() == null ? null : r.status().name());
    o.set("input", embed(r.inputJson()));
    o.set("output", embed(r.outputJson()));
    o.put("error", r.error());
    ObjectNode md = o.putObject("metadata");
    r.metadata().forEach(md::put);
    o.put("created_at", iso(r.createdAt()));
    o.put("started_at", iso(r.startedAt()));
    o.put("finished_at", iso(r.finishedAt()));
    Long ms = millisBetween(r.createdAt(), r.finishedAt());
    if (ms == null) {
      o.putNull("duration_ms");
    } else {
      o.put("duration_ms", ms);
    }
    if (!r.steps().isEmpty()) {
      ArrayNode steps = o.putArray("steps");
      for (StepInfo s : r.steps()) {
        steps.add(stepJson(s));
      }
    }
    return o;
  }

  static ObjectNode stepJson(StepInfo s) {
    ObjectNode o = F.objectNode();
    o.put("name", s.name());
    o.put("status", s.status() == null ? null : s.status().name());
    o.put("attempts", s.attempts());
    Long ms = millisBetween(s.startedAt(), s.finishedAt());
    if (ms == null) {
      o.putNull("duration_ms");
    } else {
      o.put("duration_ms", ms);
    }
    o.put("error", s.error());
    o.put("worker_id", s.workerId());
    ArrayNode parents = o.putArray("parents");
    s.parents().forEach(parents::add);
    o.set("output", embed(s.outputJson()));
    o.put("started_at", iso(s.startedAt()));
    o.put("finished_at", iso(s.finishedAt()));
    return o;
  }

  /** The run's header lines, output and steps table. */
  static void printRun(PrintWriter out, RunInfo r) {
    out.println("Run       " + r.id());
    out.println("Workflow  " + r.workflowName() + " v" + r.workflowVersion());
    String took = millisBetween(r.createdAt(), r.finishedAt()) == null
        ? "" : "  (took " + duration(r.createdAt(), r.finishedAt()) + ")";
    out.println("Status    " + r.status() + took);
    if (!r.metadata().isEmpty()) {
      out.println("Metadata  " + r.metadata());
    }
    out.println("Created   " + time(r.createdAt()));
    if (r.inputJson() != null) {
      out.println("Input     " + r.inputJson());
    }
    if (r.outputJson() != null) {
      out.println("Output    " + r.outputJson());
    }
    if (r.error() != null) {
      out.println("Error     " + r.error());
    }
    if (!r.steps().isEmpty()) {
      out.println();
      printSteps(out, r.steps());
    }
    out.flush();
  }

  static void printSteps(PrintWriter out, List<StepInfo> steps) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"STEP", "STATUS", "ATTEMPTS", "DURATION", "ERROR"});
    for (StepInfo s : dagOrder(steps)) {
      rows.add(new String[] {
        s.name(),
        String.valueOf(s.status()),
        String.valueOf(s.attempts()),
        duration(s.startedAt(), s.finishedAt()),
        s.error() == null ? "" : oneLine(s.error())
      });
    }
    table(out, rows);
  }

  /** Parents before children; among ready steps, the server's order. */
  static List<StepInfo> dagOrder(List<StepInfo> steps) {
    List<StepInfo> result = new ArrayList<>();
    java.util.Set<String> placed = new java.util.HashSet<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    steps.forEach(s -> names.add(s.name()));
    List<StepInfo> left = new ArrayList<>(steps);
    while (!left.isEmpty()) {
      StepInfo next = null;
      for (StepInfo s : left) {
        if (s.parents().stream().allMatch(p -> placed.contains(p) || !names.contains(p))) {
          next = s;
          break;
        }
      }
      if (next == null) {
        result.addAll(left); // a cycle cannot happen, but never loop forever
        break;
      }
      result.add(next);
      placed.add(next.name());
      left.remove(next);
    }
    return result;
  }

  static void printRunList(PrintWriter out, List<RunInfo> runs) {
    if (runs.isEmpty()) {
      out.println("no runs");
      out.flush();
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "WORKFLOW", "STATUS", "CREATED", "DURATION", "ERROR"});
    for (RunInfo r : runs) {
      rows.add(new String[] {
        r.id(),
        r.workflowName() + " v" + r.workflowVersion(),
        String.valueOf(r.status()),
        time(r.createdAt()),
        duration(r.createdAt(), r.finishedAt()),
        r.error() == null ? "" : oneLine(r.error())
      });
    }
    table(out, rows);
  }

  /** Left-aligned columns separated by two spaces; the last column is not padded. */
  static void table(PrintWriter out, List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] row : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        if (i == cols - 1) {
          sb.append(row[i]);
        } else {
          sb.append(String.format(Locale.ROOT, "%-" + width[i] + "s  ", row[i]));
        }
      }
      out.println(sb.toString().stripTrailing());
    }
    out.flush();
  }

  static String duration(Instant from, Instant to) {
    Long ms = millisBetween(from, to);
    if (ms == null) {
      return "-";
    }
    return humanMillis(ms);
  }

  static String humanMillis(long ms) {
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    Duration d = Duration.ofMillis(ms);
    return d.toMinutes() + " min " + d.toSecondsPart() + " s";
  }

  static Long millisBetween(Instant from, Instant to) {
    if (from == null || to == null) {
      return null;
    }
    return Math.max(0, Duration.between(from, to).toMillis());
  }

  static String time(Instant t) {
    return t == null ? "-" : TIME.format(t);
  }

  static String iso(Instant t) {
    return t == null ? null : t.toString();
  }

  static String oneLine(String s) {
    String line = s.replace('\n', ' ').replace('\r', ' ');
    return line.length() > 120 ? line.substring(0, 117) + "..." : line;
  }

  static ObjectNode object(Map<String, ?> values) {
    return MAPPER.valueToTree(values);
  }
}
