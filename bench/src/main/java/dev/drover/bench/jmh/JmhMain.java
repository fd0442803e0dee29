package dev.drover.bench.jmh;

import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the microbenchmarks ({@code drover bench jmh [JMH options] [include regex]}). JMH's own
 * options apply ({@code -h} lists them); unless given, runs are short: 1 fork, 2 warm-up and 3
 * measurement iterations of 1 s.
 *
 * <pre>{@code
 * drover bench jmh                    # everything (about 2 minutes)
 * drover bench jmh Proto -f 2 -i 10   # only ProtoBenchmark, longer
 * drover bench jmh -l                 # list
 * }</pre>
 */
public final class JmhMain {
  private JmhMain() {}

  /** Entry point for running from an IDE or {@code java -cp}. */
  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.err, true)));
  }

  /**
   * Runs JMH with the given arguments.
   *
   * @return 0 on success, 1 on a benchmark failure, 2 on bad options
   */
  public static int run(String[] args, PrintWriter err) {
    CommandLineOptions cmd;
    try {
      cmd = new CommandLineOptions(args);
    } catch (CommandLineOptionException e) {
      err.println("drover bench jmh: " + e.getMessage());
      err.flush();
      return 2;
    }
    try {
      if (cmd.shouldHelp()) {
        cmd.showHelp();
        return 0;
      }
      if (cmd.shouldList() || cmd.shouldListWithParams()) {
        new Runner(cmd).list();
        return 0;
      }
      if (cmd.shouldListProfilers()) {
        cmd.listProfilers();
        return 0;
      }
      if (cmd.shouldListResultFormats()) {
        cmd.listResultFormats();
        return 0;
      }
      OptionsBuilder b = new OptionsBuilder();
      b.parent(cmd);
      if (cmd.getIncludes().isEmpty()) {
        b.include("dev\\.drover\\.bench\\.jmh\\..*");
      }
      if (!cmd.getForkCount().hasValue()) {
        b.forks(1);
      }
      if (!cmd.getWarmupIterations().hasValue()) {
        b.warmupIterations(2);
      }
      if (!cmd.getWarmupTime().hasValue()) {
        b.warmupTime(TimeValue.seconds(1));
      }
      if (!cmd.getMeasurementIterations().hasValue()) {
        b.measurementIterations(3);
      }
      if (!cmd.getMeasurementTime().hasValue()) {
        b.measurementTime(new TimeValue(1, TimeUnit.SECONDS));
      }
      new Runner(b.build()).run();
      return 0;
    } catch (RunnerException | RuntimeException e) {
      err.println("drover bench jmh: " + e.getMessage());
      err.flush();
      return 1;
    } catch (Exception e) {
      err.println("drover bench jmh: " + e);
      err.flush();
      return 1;
    }
  }
}
