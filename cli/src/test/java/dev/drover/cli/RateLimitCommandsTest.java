package dev.drover.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drover.server.DroverServer;
import dev.drover.server.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code drover rate-limit} against a real server. */
class RateLimitCommandsTest {
  private static final String TOKEN = "cli-rate-limits-token-0123456789";
  static Path dir;
  static DroverServer server;
  static String address;

  private StringWriter out = new StringWriter();
  private StringWriter err = new StringWriter();

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "tmp")).toAbsolutePath(), "cli-rate-limits-");
    ServerConfig.Overrides o = new ServerConfig.Overrides();
    o.dataDir = dir.toString();
    o.httpPort = "0";
    o.grpcPort = "0";
    o.bindAddress = "127.0.0.1";
    o.token = TOKEN;
    server = DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
    address = "127.0.0.1:" + server.grpcPort();
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
  void rateLimitLifecycle() throws Exception {
    assertThat(run("rate-limit", "put", "stripe", "--capacity", "100", "--window", "second", "--json")).as(err.toString()).isZero();
    assertThat(json().get("capacity").asInt()).isEqualTo(100);
    assertThat(json().get("window_ms").asLong()).isEqualTo(1000);
    assertThat(run("rate-limit", "put", "reports", "--capacity", "10", "--window", "15m")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("Capacity    10 per 15 min");

    assertThat(run("rate-limit", "pause", "stripe", "--key", "c-42", "--for", "5m", "--reason", "429 from Stripe")).isZero();
    assertThat(out.toString()).contains("key 'c-42': paused until");
    assertThat(run("rate-limit", "show", "stripe")).isZero();
    assertThat(out.toString()).contains("Capacity    100 per second", "(global)", "c-42", "429 from Stripe");
    assertThat(run("rate-limit", "list")).isZero();
    assertThat(out.toString()).contains("stripe", "reports", "second");
    assertThat(run("rate-limit", "pause", "stripe", "--key", "c-42", "--for", "0", "--json")).isZero();
    assertThat(json().get("paused_until").isNull()).isTrue();

    assertThat(run("rate-limit", "delete", "reports")).isZero();
    assertThat(run("rate-limit", "show", "reports")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: name: no rate limit named 'reports'");
    assertThat(run("rate-limit", "put", "x", "--capacity", "0", "--window", "second")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: capacity:");
    assertThat(run("rate-limit", "put", "x", "--capacity", "1", "--window", "fortnight")).isEqualTo(2);
    assertThat(err.toString()).contains("--window");
  }
}
