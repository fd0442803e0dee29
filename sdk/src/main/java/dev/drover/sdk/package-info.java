/**
 * The Drover Java SDK: declare workflows with annotations, trigger and observe runs with
 * {@link dev.drover.sdk.DroverClient}, and execute steps with a {@link dev.drover.sdk.Worker}.
 *
 * <pre>{@code
 * @Workflow(name = "order", version = "1")
 * public class OrderWorkflow {
 *   @Step public Order validate(Order in) { return in; }
 *   @Step(parents = "validate", maxAttempts = 5) public Receipt charge(StepContext ctx) { ... }
 * }
 *
 * try (DroverClient client = DroverClient.fromEnvironment();
 *      Worker worker = client.newWorker("orders").register(new OrderWorkflow()).start()) {
 *   Receipt r = client.run(OrderWorkflow.class, order).result(Receipt.class).join();
 * }
 * }</pre>
 *
 * <p>Everything in {@code dev.drover.sdk.internal} is an implementation detail.
 */
package dev.drover.sdk;
