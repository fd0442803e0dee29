package dev.drover.examples;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.Worker;
import java.util.concurrent.CountDownLatch;

/**
 * A worker process that runs {@link OrderWorkflow} until it is stopped with Ctrl-C (or SIGTERM),
 * then drains its running steps.
 *
 * <pre>{@code
 * // java -cp ... dev.drover.examples.ExampleWorker    (or: drover worker)
 * ExampleWorker.run(null, null, 50);
 * }</pre>
 */
public final class ExampleWorker {
  /** Default number of concurrent step attempts. */
  public static final int DEFAULT_SLOTS = 50;

  private ExampleWorker() {}

  /**
   * Starts the worker with the address and token from the environment (see {@link
   * LocalConnection}).
   *
   * @param args ignored
   * @throws InterruptedException if interrupted while waiting for shutdown
   */
  public static void main(String[] args) throws InterruptedException {
    run(null, null, DEFAULT_SLOTS);
  }

  /**
   * Connects, registers {@link OrderWorkflow}, prints {@code worker started} and blocks until the
   * JVM shuts down; a shutdown hook closes the worker and the client.
   *
   * @param address server address, or {@code null} for the default
   * @param token bearer token, or {@code null} to look it up
   * @param slots concurrent step attempts
   * @throws InterruptedException if interrupted while waiting for shutdown
   * @throws dev.drover.sdk.DroverException when the server refuses the registration or is unreachable
   */
  public static void run(String address, String token, int slots) throws InterruptedException {
    DroverClient client = LocalConnection.connect(address, token);
    Worker worker;
    try {
      worker = client.newWorker("example-worker").register(new OrderWorkflow()).slots(slots).start();
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        worker.close();
        client.close();
      } finally {
        stopped.countDown();
      }
    }, "drover-worker-shutdown"));
    System.out.println("worker started (id " + worker.workerId() + ", " + slots + " slots, workflow order v1, server "
        + client.addresses().get(0) + ")");
    System.out.flush();
    stopped.await();
  }
}
