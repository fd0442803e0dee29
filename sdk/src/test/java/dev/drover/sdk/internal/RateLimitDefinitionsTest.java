package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.RateLimitUse;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.sdk.RateLimit;
import dev.drover.sdk.Step;
import dev.drover.sdk.Workflow;
import org.junit.jupiter.api.Test;

/** {@link RateLimit} annotations become the steps' wire rate limits, checked before anything is sent. */
class RateLimitDefinitionsTest {

  @Workflow(name = "charge", version = "1")
  public static class Charge {
    @Step
    @RateLimit(name = "stripe")
    @RateLimit(name = "stripe-per-customer", key = " input.customerId ", units = 2)
    public String charge() {
      return "ok";
    }

    @Step(parents = "charge")
    public void notify(String receipt) {}
  }

  @Workflow(name = "bad", version = "1")
  public static class NoName {
    @Step
    @RateLimit(name = " ")
    public void s() {}
  }

  @Workflow(name = "bad", version = "1")
  public static class ZeroUnits {
    @Step
    @RateLimit(name = "x", units = 0)
    public void s() {}
  }

  @Test
  void stepsCarryTheirRateLimitsOnTheWire() {
    StepDefinition charge = Definitions.fromClass(Charge.class).toProto().getSteps(0);
    assertThat(charge.getName()).isEqualTo("charge");
    assertThat(charge.getRateLimitsList()).containsExactly(
        RateLimitUse.newBuilder().setLimitName("stripe").setUnits(1).build(),
        RateLimitUse.newBuilder().setLimitName("stripe-per-customer").setKeyExpression("input.customerId").setUnits(2).build());
    assertThat(Definitions.fromClass(Charge.class).toProto().getSteps(1).getRateLimitsList()).isEmpty();
  }

  @Test
  void badAnnotationsAreRefusedNamingTheStepAndAttribute() {
    assertThatThrownBy(() -> Definitions.fromClass(NoName.class))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step 's'").hasMessageContaining("@RateLimit name");
    assertThatThrownBy(() -> Definitions.fromClass(ZeroUnits.class))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step 's'").hasMessageContaining("units must be >= 1");
  }
}
