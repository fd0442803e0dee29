package dev.drover.cli;

import dev.drover.sdk.DroverException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * The {@code drover} command: {@code server}, {@code worker}, {@code run}, {@code runs},
 * {@code cancel} and {@code bench}.
 *
 * <pre>{@code
 * int exitCode = Main.commandLine(new PrintWriter(System.out), new PrintWriter(System.err))
 *     .execute("run", "order", "--input", "{\"orderId\":\"o-1\",\"total\":1}", "--wait");
 * }</pre>
 *
 * <p>Exit codes: 0 success, 1 failure (server error, failed run), 2 usage or configuration error.
 */
@Command(
    name = "drover",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Drover: durable workflows on PostgreSQL.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {
      ServerCommand.class,
      WorkerCommand.class,
      RunCommand.class,
      RunsCommand.class,
      CancelCommand.class,
      ReplayCommand.class,
      PushCommand.class,
      EventsCommand.class,
      CronCommand.class,
      ScheduleCommand.class,
      WorkersCommand.class,
      RateLimitCommand.class,
      BenchCommand.class,
      ChaosCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Quick start:",
      "  drover server                       # embedded PostgreSQL, data in ~/.drover",
      "  drover worker                       # runs the example 'order' workflow",
      "  drover run order --wait --input '{\"orderId\":\"o-1\",\"total\":42.5}'",
      "",
      "Exit codes: 0 ok, 1 failed (server error, failed run), 2 bad usage or configuration."
    })
public final class Main {
  /** Exit code for a failure at run time. */
  public static final int EXIT_FAILURE = 1;
  /** Exit code for bad usage or configuration. */
  public static final int EXIT_USAGE = 2;

  private Main() {}

  /**
   * Runs the command and exits with its code (unless the command keeps running, like
   * {@code server}, which ends on a signal).
   *
   * @param args command-line arguments
   */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * The configured command line, writing to the given streams.
   *
   * @param out standard output
   * @param err standard error
   * @return the command line; call {@code execute(args)} on it
   */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(Main.class);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler(Main::handleParameterException);
    cl.setExecutionExceptionHandler(Main::handleExecutionException);
    return cl;
  }

  private static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("drover: " + firstLine(ex.getMessage()));
    CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
    return EXIT_USAGE;
  }

  private static int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    int code = EXIT_FAILURE;
    String message;
    if (ex instanceof DroverException d) {
      message = firstLine(d.getMessage()) + hint(d.code());
    } else if (ex instanceof UsageException u) {
      message = u.getMessage();
      code = EXIT_USAGE;
    } else if (ex instanceof IllegalArgumentException || ex instanceof java.io.UncheckedIOException) {
      message = firstLine(ex.getMessage());
    } else {
      message = "unexpected error: " + ex;
      if (System.getenv("DROVER_DEBUG") != null) {
        ex.printStackTrace(err);
      }
    }
    err.println("drover: " + message);
    err.flush();
    return code;
  }

  private static String hint(DroverException.Code code) {
    return switch (code) {
      case UNAVAILABLE -> " (is the server running? start one with 'drover server', or pass --address)";
      case UNAUTHENTICATED ->
          " (pass --token, set DROVER_TOKEN, or set DROVER_DATA_DIR to the server's data directory)";
      default -> "";
    };
  }

  static String firstLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }

  /** A usage error found after parsing (e.g. invalid JSON input): exit code 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** Prints the version from the jar manifest. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"drover " + (v == null ? "0.1.0-SNAPSHOT" : v) + " (Java " + Runtime.version() + ")"};
    }
  }
}
