package dev.drover.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Command-line parsing only: no server is started. */
class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
  }

  @Test
  void helpListsTheCommandsAndExitsZero() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("server", "worker", "run", "runs", "cancel", "bench");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void subcommandHelpExitsZero() {
    assertThat(run("run", "--help")).isZero();
    assertThat(out.toString()).contains("--wait", "--input", "--idempotency-key", "--address", "--token");
    assertThat(run("runs", "list", "--help")).isZero();
    assertThat(run("bench", "--help")).isZero();
    assertThat(out.toString()).contains("--concurrency", "--warmup");
  }

  /**
   * Every command's help renders without picocli complaining: a bare '%' in a description is a format
   * specifier to picocli, which then prints a warning to stderr in front of the help.
   */
  @Test
  void everyHelpRendersWithoutWarnings() {
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream saved = System.err;
    java.util.List<String> names = new java.util.ArrayList<>();
    System.setErr(new java.io.PrintStream(captured, true));
    try {
      java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>();
      todo.add(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)));
      while (!todo.isEmpty()) {
        CommandLine c = todo.poll();
        names.add(c.getCommandSpec().qualifiedName());
        assertThat(c.getUsageMessage()).isNotBlank();
        todo.addAll(c.getSubcommands().values());
      }
    } finally {
      System.setErr(saved);
    }
    assertThat(names).contains("drover bench steady", "drover bench burn-down");
    assertThat(captured.toString()).doesNotContain("WARN");
  }

  @Test
  void versionExitsZero() {
    assertThat(run("--version")).isZero();
    assertThat(out.toString()).startsWith("drover ");
  }

  @Test
  void unknownFlagExitsTwoWithOneLineMessage() {
    assertThat(run("--bogus")).isEqualTo(2);
    assertThat(err.toString()).startsWith("drover: Unknown option: '--bogus'").contains("--help");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void unknownSubcommandFlagExitsTwo() {
    assertThat(run("run", "order", "--wiat")).isEqualTo(2);
    assertThat(err.toString()).contains("drover: Unknown option: '--wiat'").contains("drover run --help");
  }

  @Test
  void missingWorkflowExitsTwo() {
    assertThat(run("run")).isEqualTo(2);
    assertThat(err.toString()).contains("WORKFLOW");
  }

  @Test
  void missingSubcommandExitsTwo() {
    assertThat(run()).isEqualTo(2);
    assertThat(run("runs")).isEqualTo(2);
  }

  @Test
  void badDurationExitsTwoNamingTheOption() {
    assertThat(run("run", "order", "--wait", "--timeout", "soon")).isEqualTo(2);
    assertThat(err.toString()).contains("--timeout").contains("soon");
  }

  @Test
  void invalidJsonInputExitsTwoBeforeAnyServerCall() {
    assertThat(run("run", "order", "--input", "{not json", "--address", "127.0.0.1:1")).isEqualTo(2);
    assertThat(err.toString()).startsWith("drover: --input is not valid JSON");
  }

  @Test
  void unreachableServerIsAOneLineFailure() {
    assertThat(run("runs", "list", "--address", "127.0.0.1:1", "--token", "t")).isEqualTo(1);
    assertThat(err.toString()).startsWith("drover: ").contains("is the server running?");
    assertThat(err.toString().strip().lines()).hasSize(1);
  }

  @Test
  void badServerSettingExitsTwo() {
    assertThat(run("server", "--http-port", "70000", "--data-dir", System.getProperty("java.io.tmpdir"))).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("drover: DROVER_HTTP_PORT: must be a port number 0-65535, got 70000");
  }

  @Test
  void benchRejectsConflictingOptions() {
    assertThat(run("bench", "--address", "localhost:7077", "--database-url", "postgresql://x@y/z")).isEqualTo(2);
    assertThat(err.toString()).startsWith("drover: --address and --database-url");
  }

  @Test
  void statusFilterIsCaseInsensitive() {
    CommandLine cl = Main.commandLine(new PrintWriter(out), new PrintWriter(err));
    CommandLine.ParseResult pr = cl.parseArgs("runs", "list", "--status", "failed", "--limit", "5");
    RunsCommand.ListRuns list = pr.subcommand().subcommand().commandSpec().commandLine().getCommand();
    assertThat(list.status).isEqualTo(dev.drover.sdk.RunStatus.FAILED);
    assertThat(list.limit).isEqualTo(5);
  }

  @Test
  void durationsParse() {
    DurationConverter c = new DurationConverter();
    assertThat(c.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(c.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.convert("45")).isEqualTo(Duration.ofSeconds(45));
    assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.convert("PT1H")).isEqualTo(Duration.ofHours(1));
  }
}
