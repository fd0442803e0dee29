package dev.drover.bench.chaos;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.Worker;
import java.util.Arrays;
import java.util.List;

/**
 * A worker process of the chaos suite: registers {@link ChaosWorkflows} and runs until killed.
 *
 * <p>Environment: {@code DROVER_CHAOS_ADDRESSES} (comma-separated {@code host:port}),
 * {@code DROVER_TOKEN}, {@code DROVER_CHAOS_JDBC} (ledger database), {@code DROVER_CHAOS_WORKER}
 * (name), {@code DROVER_CHAOS_SLOTS} (default 50).
 */
public final class ChaosWorkerMain {
  private ChaosWorkerMain() {}

  /** @param args unused */
  public static void main(String[] args) throws Exception {
    List<String> addresses = Arrays.stream(env("DROVER_CHAOS_ADDRESSES").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    String name = System.getenv().getOrDefault("DROVER_CHAOS_WORKER", "chaos-worker");
    int slots = Integer.parseInt(System.getenv().getOrDefault("DROVER_CHAOS_SLOTS", "50"));
    Ledger ledger = new Ledger(env("DROVER_CHAOS_JDBC"), name + "/" + ProcessHandle.current().pid());
    DroverClient client = DroverClient.builder().addresses(addresses).token(env("DROVER_TOKEN")).build();
    Worker worker = client.newWorker(name)
        .register(new ChaosWorkflows.Single(ledger))
        .register(new ChaosWorkflows.Dag(ledger))
        .register(new ChaosWorkflows.Flaky(ledger))
        .register(new ChaosWorkflows.Ticker(ledger))
        .register(new ChaosWorkflows.Limited(ledger))
        .register(new ChaosWorkflows.Rated(ledger))
        .slots(slots)
        .start();
    System.out.println("chaos worker " + name + " started (" + slots + " slots, servers " + addresses + ")");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close();
      client.close();
      ledger.close();
    }));
    Thread.currentThread().join();
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) throw new IllegalArgumentException(name + " is not set");
    return v;
  }
}
