package dev.drover.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Every workload at a tiny size against one in-process server: the JSON line has the report's
 * fields and counts exactly the runs asked for. Not a performance test (targets live in the
 * benchmark, never in timed tests).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class WorkloadsSmokeTest {
  private BenchTarget target;

  @BeforeAll
  void startServer() {
    target = BenchTarget.embedded(msg -> {});
  }

  @AfterAll
  void stopServer() {
    if (target != null) {
      target.close();
    }
  }

  private List<ObjectNode> run(String workload, Consumer<BenchConfig> tweak) throws Exception {
    BenchConfig c = new BenchConfig();
    c.json = true;
    c.warmup = 50;
    c.warmupTime = Duration.ZERO; // one round: these check the fields, not the speed
    c.stallTimeout = Duration.ofSeconds(30);
    tweak.accept(c);
    StringWriter out = new StringWriter();
    List<ObjectNode> lines = new BenchRunner(new PrintWriter(out), new PrintWriter(new StringWriter()))
        .run(Workloads.get(workload), c, target);
    // What was printed is what was returned, one JSON object per line.
    String[] printed = out.toString().strip().split("\n");
    assertThat(printed).hasSize(lines.size());
    for (int i = 0; i < printed.length; i++) {
      assertThat(Reports.MAPPER.readTree(printed[i]).isObject()).isTrue();
      assertThat(printed[i]).isEqualTo(Reports.json(lines.get(i)));
    }
    return lines;
  }

  private static ObjectNode only(List<ObjectNode> lines) {
    assertThat(lines).hasSize(1);
    return lines.get(0);
  }

  private static void assertCommonFields(JsonNode l, String workload, long runs, boolean latency) {
    assertThat(l.path("workload").asText()).isEqualTo(workload);
    assertThat(l.path("runs").asLong()).isEqualTo(runs);
    assertThat(l.path("parameters").isObject()).isTrue();
    assertThat(l.path("parameters").path("warmup_time_s").isNumber()).as("parameters.warmup_time_s").isTrue();
    assertThat(l.path("warmup_done").path("seconds").isNumber()).as("warmup_done.seconds").isTrue();
    assertThat(l.path("seconds").asDouble()).isPositive();
    assertThat(l.path("throughput_per_s").asDouble()).isPositive();
    assertThat(l.has("latency_ms")).isTrue();
    if (latency) {
      for (String p : List.of("p50", "p95", "p99", "max")) {
        assertThat(l.path("latency_ms").path(p).isNumber()).as("latency_ms." + p).isTrue();
      }
      assertThat(l.path("latency_ms").path("count").asLong()).isEqualTo(runs);
    } else {
      assertThat(l.get("latency_ms").isNull()).isTrue();
    }
    assertThat(l.path("server_rss_mb").isNumber()).isTrue();
    assertThat(l.path("server_rss_peak_mb").isNumber()).isTrue();
    assertThat(l.path("rss_note").asText()).isNotBlank();
    assertThat(l.path("heap_committed_mb").asLong()).as("heap_committed_mb").isPositive();
    assertThat(l.path("heap_after_gc_mb").isNumber() || l.path("heap_after_gc_mb").isNull()).as("heap_after_gc_mb").isTrue();
    assertThat(l.path("postgres").path("server_version").asText()).isNotBlank();
    assertThat(l.path("postgres").path("synchronous_commit").asText()).isNotBlank();
    assertThat(l.path("machine").path("cores").asInt()).isPositive();
    assertThat(l.path("machine").path("memory_gb").isNumber()).isTrue();
    assertThat(l.path("machine").path("java").asText()).isNotBlank();
    assertThat(l.path("machine").path("os").asText()).isNotBlank();
    assertThat(l.path("git_commit").asText()).isNotBlank();
  }

  @Test
  void burnDown() throws Exception {
    JsonNode l = only(run("burn-down", c -> c.runs = 200));
    assertCommonFields(l, "burn-down", 200, false);
    assertThat(l.path("enqueue_per_s").asDouble()).isPositive();
  }

  @Test
  void steady() throws Exception {
    JsonNode l = only(run("steady", c -> {
      c.rate = 200.0;
      c.duration = Duration.ofSeconds(2);
    }));
    assertCommonFields(l, "steady", 400, true);
    assertThat(l.path("achieved_trigger_rate_per_s").asDouble()).isPositive();
    assertThat(l.path("latency_plain_ms").path("p99").isNumber()).isTrue();
  }

  @Test
  void latency() throws Exception {
    JsonNode l = only(run("latency", c -> c.runs = 100));
    assertCommonFields(l, "latency", 100, true);
    assertThat(l.path("offered_rate_per_s").asDouble()).isPositive();
    JsonNode disk = l.path("disk_sync_ms");
    assertThat(disk.path("count").asInt()).isEqualTo(200);
    assertThat(disk.path("p50").asDouble()).isPositive();
    assertThat(disk.path("p99").asDouble()).isGreaterThanOrEqualTo(disk.path("p50").asDouble());
    assertThat(disk.path("max").asDouble()).isGreaterThanOrEqualTo(disk.path("p999").asDouble());
  }

  @Test
  void bulkWithRepeatPrintsASummary() throws Exception {
    List<ObjectNode> lines = run("bulk", c -> {
      c.runs = 200;
      c.batchSize = 50;
      c.repeat = 2;
      c.heapLive = true;
    });
    assertThat(lines).hasSize(3);
    assertCommonFields(lines.get(0), "bulk", 200, false);
    assertCommonFields(lines.get(1), "bulk", 200, false);
    ObjectNode s = lines.get(2);
    assertThat(s.path("summary").asBoolean()).isTrue();
    assertThat(s.path("repetitions").asInt()).isEqualTo(2);
    assertThat(s.path("runs").asLong()).isEqualTo(200);
    assertThat(s.path("throughput_per_s").path("median").asDouble()).isPositive();
    assertThat(s.path("throughput_per_s").path("min").asDouble())
        .isLessThanOrEqualTo(s.path("throughput_per_s").path("max").asDouble());
    assertThat(s.path("server_rss_mb_per_repetition")).hasSize(2);
    assertThat(s.path("server_rss_peak_mb").isNumber()).isTrue();
    // --heap-live: the heap that survives a full collection, per repetition (the leak test).
    for (int i = 0; i < 2; i++) {
      long live = lines.get(i).path("heap_live_mb").asLong(-1);
      assertThat(live).as("heap_live_mb").isPositive().isLessThanOrEqualTo(lines.get(i).path("heap_committed_mb").asLong());
    }
    assertThat(s.path("heap_live_mb_per_repetition")).hasSize(2);
    assertThat(s.path("heap_after_gc_mb_per_repetition")).hasSize(2);
  }

  @Test
  void bulkPush() throws Exception {
    JsonNode l = only(run("bulk-push", c -> {
      c.runs = 300;
      c.batchSize = 100;
    }));
    assertCommonFields(l, "bulk-push", 300, false);
    assertThat(l.path("completed_per_s").asDouble()).isPositive();
  }

  @Test
  void spike() throws Exception {
    JsonNode l = only(run("spike", c -> {
      c.runs = 3000;
    }));
    assertThat(l.path("workload").asText()).isEqualTo("spike");
    assertThat(l.path("runs").asLong()).isEqualTo(3000);
    assertThat(l.path("throughput_per_s").asDouble()).isPositive();
    assertThat(l.get("drained_seconds").asDouble()).isPositive();
    // The latency is the other key's: one entry per run it triggered during the spike.
    assertThat(l.path("latency_ms").path("count").asLong()).isEqualTo(l.get("other_key_runs").asLong()).isPositive();
    assertThat(l.path("server_rss_peak_mb").isNumber()).isTrue();
  }

  @Test
  void concurrentTriggers() throws Exception {
    JsonNode l = only(run("concurrent-triggers", c -> {
      c.runs = 200;
      c.concurrency = 8;
    }));
    assertCommonFields(l, "concurrent-triggers", 200, true);
    assertThat(l.path("end_to_end_per_s").asDouble()).isPositive();
  }

  @Test
  void dag() throws Exception {
    JsonNode l = only(run("dag", c -> c.runs = 200));
    assertCommonFields(l, "dag", 200, true);
    assertThat(l.path("throughput_per_s").asDouble())
        .isCloseTo(4 * l.path("runs_per_s").asDouble(), org.assertj.core.data.Percentage.withPercentage(1));
  }

  @Test
  void backlog() throws Exception {
    JsonNode l = only(run("backlog", c -> {
      c.runs = 200;
      c.backlog = 1000;
    }));
    assertCommonFields(l, "backlog", 200, false);
    assertThat(l.path("parameters").path("backlog").asInt()).isEqualTo(1000);
    assertThat(l.path("empty_queue_throughput_per_s").asDouble()).isPositive();
    assertThat(l.path("ratio_vs_empty_queue").asDouble()).isPositive();
  }

  @Test
  void ceiling() throws Exception {
    JsonNode l = only(run("ceiling", c -> c.runs = 300));
    assertCommonFields(l, "ceiling", 300, false);
    assertThat(l.path("insert_per_s").asDouble()).isPositive();
    assertThat(l.path("claim_statements").asLong()).isPositive();
    // Every task was completed through the fenced statement (64 per statement at most).
    assertThat(l.path("complete_ms").path("count").asLong()).isGreaterThanOrEqualTo(300 / 64 + 1);
  }

  @Test
  void ceilingOneRowShapesDrainEveryRunIntoHistory() throws Exception {
    for (String shape : new String[] {"one-row-hot", "one-row-run-tables"}) {
      JsonNode l = only(run("ceiling", c -> {
        c.runs = 300;
        c.shape = shape;
      }));
      assertCommonFields(l, "ceiling", 300, false);
      assertThat(l.path("parameters").path("shape").asText()).isEqualTo(shape);
      // The warm-up's 300 and the measured 300: each claimed once and moved to history once (the shape's
      // own check fails the run if any row is left behind).
      JsonNode w = l.path("table_writes");
      JsonNode hot = w.path("drover_shape_job");
      assertThat(hot.path("inserts").asLong()).isEqualTo(600);
      assertThat(hot.path("updates").asLong()).isEqualTo(600);
      assertThat(hot.path("deletes").asLong()).isEqualTo(600);
      if (shape.equals("one-row-hot")) {
        assertThat(w.path("drover_shape_done").path("inserts").asLong()).isEqualTo(600);
      } else {
        // Today's tables are shared with the other workloads of this test's server, whose counters may
        // arrive late: at least this run's rows (the shape's own check counted them exactly).
        assertThat(w.path("drover_run").path("inserts").asLong()).isGreaterThanOrEqualTo(600);
        assertThat(w.path("drover_step_run").path("inserts").asLong()).isGreaterThanOrEqualTo(600);
      }
    }
  }

  @Test
  void ceilingWithoutHistoryDeletesEveryRunItClaimed() throws Exception {
    JsonNode l = only(run("ceiling", c -> {
      c.runs = 300;
      c.shape = "one-row-no-history";
    }));
    assertCommonFields(l, "ceiling", 300, false);
    JsonNode w = l.path("table_writes");
    assertThat(w.path("drover_shape_job").path("deletes").asLong()).isEqualTo(600);
    assertThat(w.has("drover_shape_done")).isFalse();
  }

  @Test
  void ceilingMixedDrainsRunsWhileTheyAreWritten() throws Exception {
    for (String shape : new String[] {"today", "one-row-hot"}) {
      JsonNode l = only(run("ceiling", c -> {
        c.runs = 2_000;
        c.shape = shape;
        c.mixed = true;
        c.batchSize = 32;
      }));
      assertCommonFields(l, "ceiling", 2_000, false);
      assertThat(l.path("parameters").path("mixed").asBoolean()).isTrue();
      // Small batches written while the drain runs: 63 inserts (62 of 32 and one of 16), and the drain
      // took every run (a claim that found none while inserts went on waited instead of failing).
      assertThat(l.path("insert_call_ms").path("count").asLong()).isEqualTo(63);
      assertThat(l.path("seconds").asDouble()).isGreaterThanOrEqualTo(l.path("insert_seconds").asDouble());
    }
  }

  @Test
  void ceilingRefusesAnUnknownShape() {
    assertRefused("ceiling", c -> c.shape = "two-rows", "--shape");
  }

  @Test
  void ceilingNeedsAnInProcessServer() {
    assertRefused("ceiling", c -> c.address = "localhost:1", "in-process");
  }

  @Test
  void triggerAndDrain() throws Exception {
    JsonNode l = only(run("trigger-and-drain", c -> c.runs = 200));
    assertCommonFields(l, "trigger-and-drain", 200, true);
    assertThat(l.path("trigger_throughput_per_s").asDouble()).isPositive();
  }

  @Test
  void badOptionsAreRejectedBeforeAnythingStarts() {
    assertRefused("burn-down", c -> {
      c.address = "localhost:1";
      c.databaseUrl = "postgresql://x@y/z";
    }, "--address");
  }

  /** The options are refused with a usage error naming {@code expected}, before any server starts. */
  private static void assertRefused(String workload, Consumer<BenchConfig> options, String expected) {
    BenchConfig c = new BenchConfig();
    options.accept(c);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new BenchRunner(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))
                .run(Workloads.get(workload), c))
        .isInstanceOf(BenchUsageException.class)
        .hasMessageContaining(expected);
  }
}
