package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RateLimitBucket;
import dev.drover.sdk.RateLimitInfo;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code drover rate-limit put|list|show|delete|pause}. */
@Command(
    name = "rate-limit",
    mixinStandardHelpOptions = true,
    description = "Manages rate limits: at most N units per window, shared by every worker and server.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      RateLimitCommand.Put.class,
      RateLimitCommand.ListLimits.class,
      RateLimitCommand.Show.class,
      RateLimitCommand.Delete.class,
      RateLimitCommand.Pause.class
    },
    footer = {
      "",
      "Steps draw from a limit with @RateLimit(name = \"stripe\", key = \"input.customerId\", units = 1).",
      "",
      "Examples:",
      "  drover rate-limit put stripe --capacity 100 --window second",
      "  drover rate-limit put reports --capacity 10 --window 15m",
      "  drover rate-limit show stripe-per-customer --top 50",
      "  drover rate-limit pause stripe-per-customer --key c-42 --for 30s --reason '429 from Stripe'"
    })
final class RateLimitCommand {
  private static final Map<String, Duration> WINDOWS = Map.of("second", Duration.ofSeconds(1), "minute",
      Duration.ofMinutes(1), "hour", Duration.ofHours(1), "day", Duration.ofDays(1));

  /** {@code drover rate-limit put}. */
  @Command(name = "put", mixinStandardHelpOptions = true,
      description = "Creates a rate limit, or changes its capacity or window.")
  static final class Put implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "NAME", description = "The limit's name, as named by @RateLimit.")
    String name;

    @Option(names = "--capacity", required = true, paramLabel = "N", description = "Units per window (at least 1).")
    int capacity;

    @Option(names = "--window", required = true, paramLabel = "WINDOW",
        description = "second, minute, hour, day, or a duration such as 500ms, 10s, 15m (100 ms to 31 days).")
    String window;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      Duration w = WINDOWS.get(window.trim().toLowerCase(Locale.ROOT));
      if (w == null) {
        try {
          w = new DurationConverter().convert(window);
        } catch (RuntimeException e) {
          throw new Main.UsageException("--window: expected second, minute, hour, day or a duration like 500ms or 15m, got '"
              + window + "'");
        }
      }
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.putRateLimit(name, capacity, w), json);
        return 0;
      }
    }
  }

  /** {@code drover rate-limit list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists rate limits with the usage of their global bucket in the current window.")
  static final class ListLimits implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        List<RateLimitInfo> limits = c.listRateLimits();
        if (json) {
          ObjectNode o = Output.MAPPER.createObjectNode();
          ArrayNode arr = o.putArray("rate_limits");
          limits.forEach(l -> arr.add(limitJson(l)));
          out.println(Output.json(o));
        } else if (limits.isEmpty()) {
          out.println("no rate limits");
        } else {
          List<String[]> rows = new ArrayList<>();
          rows.add(new String[] {"NAME", "CAPACITY", "WINDOW", "GLOBAL USED", "ACTIVE KEYS", "PAUSED KEYS"});
          for (RateLimitInfo l : limits) {
            RateLimitBucket global = l.buckets().isEmpty() ? null : l.buckets().get(0);
            rows.add(new String[] {l.name(), String.valueOf(l.capacity()), window(l.window()),
                global == null ? "0" : String.valueOf(global.used()), String.valueOf(l.activeKeys()),
                String.valueOf(l.pausedKeys())});
          }
          Output.table(out, rows);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** {@code drover rate-limit show}. */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Shows a rate limit: usage of the current window by key, busiest first, and paused keys.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "NAME", description = "The limit's name.")
    String name;

    @Option(names = "--top", paramLabel = "N", description = "Busiest keys to show (default 20, at most 1000).")
    int top;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        print(spec.commandLine().getOut(), c.getRateLimit(name, top), json);
        return 0;
      }
    }
  }

  /** {@code drover rate-limit delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Deletes a rate limit; steps that name it wait until it is created again.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "NAME", description = "The limit's name.")
    String name;

    @Override
    public Integer call() {
      Logging.quiet();
      try (DroverClient c = client.connect()) {
        c.deleteRateLimit(name);
        spec.commandLine().getOut().println("deleted " + name);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  /** {@code drover rate-limit pause}. */
  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Pauses one key of a rate limit (e.g. the upstream answered 429); --for 0 lifts the pause.")
  static final class Pause implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions client;

    @Parameters(index = "0", paramLabel = "NAME", description = "The limit's name.")
    String name;

    @Option(names = "--key", paramLabel = "KEY", description = "The key (default: the limit's global bucket).")
    String key = "";

    @Option(names = "--for", required = true, paramLabel = "DURATION", converter = DurationConverter.class,
        description = "How long, e.g. 30s or 5m; 0 lifts the pause. A longer pause in place is kept.")
    Duration duration;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Shown next to the paused key.")
    String reason;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() {
      Logging.quiet();
      PrintWriter out = spec.commandLine().getOut();
      try (DroverClient c = client.connect()) {
        RateLimitBucket b = c.pauseRateLimitKey(name, key, duration, reason);
        if (json) {
          out.println(Output.json(bucketJson(b)));
        } else if (b.pausedUntil() == null) {
          out.println("rate limit " + name + ", " + keyLabel(b.key()) + ": not paused");
        } else {
          out.println("rate limit " + name + ", " + keyLabel(b.key()) + ": paused until " + Output.time(b.pausedUntil()));
        }
        out.flush();
        return 0;
      }
    }
  }

  static String window(Duration d) {
    for (var e : WINDOWS.entrySet()) {
      if (e.getValue().equals(d)) {
        return e.getKey();
      }
    }
    long ms = d.toMillis();
    if (ms % 86_400_000 == 0) {
      return ms / 86_400_000 + " days";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + " h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + " min";
    }
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  static String keyLabel(String key) {
    return key.isEmpty() ? "global bucket" : "key '" + key + "'";
  }

  static void print(PrintWriter out, RateLimitInfo l, boolean json) {
    if (json) {
      out.println(Output.json(limitJson(l)));
      out.flush();
      return;
    }
    out.println("Rate limit  " + l.name());
    out.println("Capacity    " + l.capacity() + " per " + window(l.window()));
    out.println("Window      since " + Output.time(l.windowStart()) + "  (" + l.activeKeys() + " active keys, "
        + l.pausedKeys() + " paused)");
    out.println();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"KEY", "USED", "REMAINING", "PAUSED UNTIL", "REASON"});
    for (RateLimitBucket b : l.buckets()) {
      rows.add(new String[] {b.key().isEmpty() ? "(global)" : b.key(), String.valueOf(b.used()),
          String.valueOf(b.remaining()), b.pausedUntil() == null ? "-" : Output.time(b.pausedUntil()),
          b.pauseReason() == null ? "" : Output.oneLine(b.pauseReason())});
    }
    Output.table(out, rows);
    out.flush();
  }

  static ObjectNode limitJson(RateLimitInfo l) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("name", l.name());
    o.put("capacity", l.capacity());
    o.put("window_ms", l.window().toMillis());
    o.put("created_at", Output.iso(l.createdAt()));
    o.put("updated_at", Output.iso(l.updatedAt()));
    o.put("window_start", Output.iso(l.windowStart()));
    o.put("active_keys", l.activeKeys());
    o.put("paused_keys", l.pausedKeys());
    ArrayNode arr = o.putArray("buckets");
    l.buckets().forEach(b -> arr.add(bucketJson(b)));
    return o;
  }

  static ObjectNode bucketJson(RateLimitBucket b) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("limit", b.limitName());
    o.put("key", b.key());
    o.put("used", b.used());
    o.put("remaining", b.remaining());
    o.put("paused_until", Output.iso(b.pausedUntil()));
    o.put("pause_reason", b.pauseReason());
    return o;
  }
}
