package dev.drover.cli;

import dev.drover.examples.ExampleWorker;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code drover worker}: runs the example worker (the {@code order} workflow) until Ctrl-C. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Runs the example worker, which executes the 'order' workflow, until Ctrl-C.")
final class WorkerCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--slots", paramLabel = "N", defaultValue = "" + ExampleWorker.DEFAULT_SLOTS,
      description = "Concurrent step attempts (default ${DEFAULT-VALUE}).")
  int slots;

  @Override
  public Integer call() throws Exception {
    if (slots < 1) {
      throw new Main.UsageException("--slots: must be at least 1, got " + slots);
    }
    ExampleWorker.run(client.address, client.token, slots);
    return 0;
  }
}
