package dev.drover.examples;

import dev.drover.sdk.NonRetryableException;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;
import java.util.Locale;
import java.util.UUID;

/**
 * A small order-fulfilment workflow: validate the order, then charge the customer and reserve the
 * stock in parallel, then ship once both are done.
 *
 * <pre>
 *   validate ──┬── charge ─────────┬── ship
 *              └── reserve-stock ──┘
 * </pre>
 *
 * <p>Run it against a local server:
 *
 * <pre>{@code
 * try (DroverClient client = LocalConnection.connect(null, null);
 *      Worker worker = client.newWorker("orders").register(new OrderWorkflow()).start()) {
 *   RunInfo run = client.run("order", new OrderWorkflow.Order("o-1", "c-1", 42.5))
 *       .await(Duration.ofSeconds(30));
 *   OrderWorkflow.Shipment shipment = run.output(OrderWorkflow.Shipment.class);
 * }
 * }</pre>
 */
@Workflow(name = "order", version = "1", description = "validate, charge and reserve stock, then ship")
public class OrderWorkflow {

  /**
   * The run's input.
   *
   * @param orderId the order's id
   * @param customer the customer's id
   * @param total order total; must be positive
   */
  public record Order(String orderId, String customer, double total) {}

  /**
   * Output of {@code charge}.
   *
   * @param chargeId the (fake) payment provider's charge id
   * @param amount the amount charged
   */
  public record Charge(String chargeId, double amount) {}

  /**
   * Output of {@code reserve-stock}.
   *
   * @param reservationId the (fake) warehouse reservation id
   * @param orderId the order the stock is reserved for
   */
  public record Reservation(String reservationId, String orderId) {}

  /**
   * Output of {@code ship}, and so of the whole run.
   *
   * @param orderId the order shipped
   * @param trackingNumber the carrier's tracking number
   * @param chargeId the charge that paid for it
   */
  public record Shipment(String orderId, String trackingNumber, String chargeId) {}

  /** Creates the workflow; it has no dependencies. */
  public OrderWorkflow() {}

  /**
   * Checks the order; an invalid order fails the run at once (no retry).
   *
   * @param order the run's input
   * @param ctx the step context
   * @return the order, passed on to the next steps
   */
  @Step
  public Order validate(Order order, StepContext ctx) {
    if (order == null) {
      throw new NonRetryableException("the order is missing: pass an input like {\"orderId\":\"o-1\",\"customer\":\"c-1\",\"total\":42.5}");
    }
    if (order.orderId() == null || order.orderId().isBlank()) {
      throw new NonRetryableException("orderId must not be empty");
    }
    if (!(order.total() > 0)) {
      throw new NonRetryableException("total must be positive, got " + order.total());
    }
    ctx.log().info("order {} for customer {} is valid ({})", order.orderId(), order.customer(), money(order.total()));
    return order;
  }

  /**
   * Charges the customer; retried up to 3 attempts in all.
   *
   * @param ctx the step context
   * @return the charge
   */
  @Step(parents = "validate", maxAttempts = 3, initialBackoff = "200ms")
  public Charge charge(StepContext ctx) throws InterruptedException {
    Order order = ctx.parentOutput("validate", Order.class);
    Thread.sleep(2); // the payment provider's round trip
    String chargeId = "ch_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    ctx.log().info("charged {} for order {} (attempt {}/{}): {}",
        money(order.total()), order.orderId(), ctx.attempt(), ctx.maxAttempts(), chargeId);
    return new Charge(chargeId, order.total());
  }

  /**
   * Reserves the order's stock.
   *
   * @param ctx the step context
   * @return the reservation
   */
  @Step(name = "reserve-stock", parents = "validate")
  public Reservation reserveStock(StepContext ctx) throws InterruptedException {
    Order order = ctx.parentOutput("validate", Order.class);
    Thread.sleep(1); // the warehouse round trip
    String reservationId = "rs_" + Long.toHexString(order.orderId().hashCode() & 0xffffffffL);
    ctx.log().info("reserved stock for order {}: {}", order.orderId(), reservationId);
    return new Reservation(reservationId, order.orderId());
  }

  /**
   * Ships the order once it is paid for and its stock is reserved.
   *
   * @param ctx the step context
   * @return the shipment with its tracking number
   */
  @Step(parents = {"charge", "reserve-stock"})
  public Shipment ship(StepContext ctx) {
    Charge charge = ctx.parentOutput("charge", Charge.class);
    Reservation reservation = ctx.parentOutput("reserve-stock", Reservation.class);
    String tracking = "1Z" + UUID.randomUUID().toString().replace("-", "").substring(0, 14).toUpperCase(Locale.ROOT);
    ctx.log().info("shipped order {} ({}), tracking {}", reservation.orderId(), charge.chargeId(), tracking);
    return new Shipment(reservation.orderId(), tracking, charge.chargeId());
  }

  private static String money(double amount) {
    return String.format(Locale.ROOT, "%.2f", amount);
  }
}
