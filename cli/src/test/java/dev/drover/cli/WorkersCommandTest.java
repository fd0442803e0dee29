package dev.drover.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drover.proto.v1.RegisterRequest;
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

/** {@code drover workers} against a real server, with a worker registered through the protocol. */
class WorkersCommandTest {
  private static final String TOKEN = "cli-workers-token-0123456789";
  static Path dir;
  static DroverServer server;
  static String address;
  static String workerId;

  private StringWriter out = new StringWriter();
  private StringWriter err = new StringWriter();

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "tmp")).toAbsolutePath(), "cli-workers-");
    ServerConfig.Overrides o = new ServerConfig.Overrides();
    o.dataDir = dir.toString();
    o.httpPort = "0";
    o.grpcPort = "0";
    o.bindAddress = "127.0.0.1";
    o.token = TOKEN;
    server = DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
    address = "127.0.0.1:" + server.grpcPort();
    try (Transport t = new Transport(address, TOKEN, Duration.ofSeconds(10))) {
      workerId = t.workers().register(RegisterRequest.newBuilder().setWorkerName("cli-gpu-1").setSlots(8)
          .putLabels("gpu", "true").putLabels("region", "eu").setSdk("test")
          .addWorkflows(WorkflowDefinition.newBuilder().setName("cli-wf").setVersion("1")
              .addSteps(StepDefinition.newBuilder().setName("only")))
          .build()).getWorkerId();
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
  void listPauseResumeDrain() throws Exception {
    assertThat(run("workers", "list")).as(err.toString()).isZero();
    assertThat(out.toString()).contains(workerId, "cli-gpu-1", "active", "0/8", "gpu=true,region=eu");

    assertThat(run("workers", "pause", workerId, "--json")).as(err.toString()).isZero();
    assertThat(json().get("state").asText()).isEqualTo("paused");
    assertThat(run("workers", "list", "--json")).isZero();
    JsonNode w = json().get("workers").get(0);
    assertThat(w.get("id").asText()).isEqualTo(workerId);
    assertThat(w.get("state").asText()).isEqualTo("paused");
    assertThat(w.get("labels").get("gpu").asText()).isEqualTo("true");

    assertThat(run("workers", "resume", workerId)).isZero();
    assertThat(out.toString()).contains("State      active");
    assertThat(run("workers", "drain", workerId, "--wait", "2s")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("State      drained");

    assertThat(run("workers", "pause", "00000000-0000-0000-0000-000000000000")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: worker").contains("not found");
    assertThat(run("workers", "pause", "not-an-id")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: worker_id:");
  }
}
