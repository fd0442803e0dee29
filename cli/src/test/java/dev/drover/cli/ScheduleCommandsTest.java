package dev.drover.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.internal.Transport;
import dev.drover.server.DroverServer;
import dev.drover.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code drover cron} and {@code drover schedule} against a real server. */
class ScheduleCommandsTest {
  private static final String TOKEN = "cli-schedules-token-0123456789";
  static Path dir;
  static DroverServer server;
  static String address;

  private StringWriter out = new StringWriter();
  private StringWriter err = new StringWriter();

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "tmp")).toAbsolutePath(), "cli-schedules-");
    ServerConfig.Overrides o = new ServerConfig.Overrides();
    o.dataDir = dir.toString();
    o.httpPort = "0";
    o.grpcPort = "0";
    o.bindAddress = "127.0.0.1";
    o.token = TOKEN;
    server = DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
    address = "127.0.0.1:" + server.grpcPort();
    try (Transport t = new Transport(address, TOKEN, Duration.ofSeconds(10))) {
      t.runs().putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder()
          .setName("cli-wf").setVersion("1").addSteps(StepDefinition.newBuilder().setName("only"))).build());
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    String[] all = Stream.concat(Stream.of(args), Stream.of("--address", address, "--token", TOKEN)).toArray(String[]::new);
    return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(all);
  }

  private JsonNode json() throws Exception {
    return Output.MAPPER.readTree(out.toString());
  }

  @Test
  void cronLifecycle() throws Exception {
    assertThat(run("cron", "create", "cli-wf", "0 7 * * MON-FRI", "--name", "weekday", "--time-zone", "Europe/Berlin",
        "--input", "{\"kind\":\"daily\"}", "--missed-ticks", "skip", "--json")).as(err.toString()).isZero();
    JsonNode c = json();
    String id = c.get("id").asText();
    assertThat(c.get("missed_ticks").asText()).isEqualTo("skip");
    assertThat(c.get("next_fire_at").isNull()).isFalse();

    assertThat(run("cron", "list", "--workflow", "cli-wf")).isZero();
    assertThat(out.toString()).contains("weekday", "0 7 * * MON-FRI", "Europe/Berlin", "active");
    assertThat(run("cron", "pause", id, "--json")).isZero();
    assertThat(json().get("paused").asBoolean()).isTrue();
    assertThat(run("cron", "resume", id)).isZero();
    assertThat(out.toString()).contains("State     active");
    assertThat(run("cron", "delete", id)).isZero();
    assertThat(run("cron", "show", id)).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: cron_id: no cron");

    assertThat(run("cron", "create", "cli-wf", "0 7 * *")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: expression:");
    assertThat(run("cron", "create", "cli-wf", "0 7 * * *", "--input", "{oops")).isEqualTo(2);
  }

  @Test
  void scheduleLifecycle() throws Exception {
    assertThat(run("schedule", "create", "cli-wf", "--in", "1h", "--input", "{\"a\":1}", "--json")).as(err.toString()).isZero();
    String id = json().get("id").asText();
    assertThat(run("schedule", "reschedule", id, "--at", "2099-01-31T07:00:00Z", "--json")).isZero();
    assertThat(json().get("fire_at").asText()).isEqualTo("2099-01-31T07:00:00Z");
    assertThat(run("schedule", "list", "--workflow", "cli-wf", "--status", "scheduled")).isZero();
    assertThat(out.toString()).contains(id, "SCHEDULED");
    assertThat(run("schedule", "delete", id)).isZero();
    assertThat(run("schedule", "show", id, "--json")).isZero();
    assertThat(json().get("status").asText()).isEqualTo("CANCELLED");

    assertThat(run("schedule", "create", "cli-wf", "--in", "100ms", "--json")).isZero();
    String soon = json().get("id").asText();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String status = "";
    while (!status.equals("FIRED") && System.nanoTime() < deadline) {
      Thread.sleep(50);
      run("schedule", "show", soon, "--json");
      status = json().get("status").asText();
    }
    assertThat(status).isEqualTo("FIRED");
    assertThat(json().get("run_id").asText()).isNotEmpty();

    assertThat(run("schedule", "create", "cli-wf")).isEqualTo(2);
    assertThat(err.toString()).contains("--at", "--in");
    assertThat(run("schedule", "create", "cli-wf", "--at", "tomorrow")).isEqualTo(2);
    assertThat(err.toString()).contains("--at: expected an ISO-8601 instant");
  }
}
