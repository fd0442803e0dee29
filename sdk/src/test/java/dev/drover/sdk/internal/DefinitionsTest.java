package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DefinitionsTest {

  record Order(String id, int amount) {}

  @Workflow(name = "order", version = "3", description = "charge and ship")
  public static class OrderWorkflow {
    @Step
    public Order validate(Order in) {
      return in;
    }

    @Step(name = "charge", parents = "validate", maxAttempts = 5, initialBackoff = "250ms",
        backoffMultiplier = 3.0, maxBackoff = "5m", executionTimeout = "30s",
        scheduleToStartTimeout = "PT1H", slots = 2)
    public String chargeCard(StepContext ctx, Order in) {
      return "ok";
    }

    @Step(parents = {"validate", "charge"})
    public void ship(StepContext ctx) {}
  }

  @Test
  void readsStepsParentsAndAttributes() {
    WorkflowModel wf = Definitions.fromClass(OrderWorkflow.class);

    assertThat(wf.name()).isEqualTo("order");
    assertThat(wf.version()).isEqualTo("3");
    assertThat(wf.description()).isEqualTo("charge and ship");
    assertThat(wf.steps()).extracting(StepModel::name).containsExactly("validate", "charge", "ship");

    StepModel charge = wf.step("charge");
    assertThat(charge.parents()).containsExactly("validate");
    assertThat(charge.maxAttempts()).isEqualTo(5);
    assertThat(charge.initialBackoffMs()).isEqualTo(250);
    assertThat(charge.backoffMultiplier()).isEqualTo(3.0);
    assertThat(charge.maxBackoffMs()).isEqualTo(300_000);
    assertThat(charge.executionTimeoutMs()).isEqualTo(30_000);
    assertThat(charge.scheduleToStartTimeoutMs()).isEqualTo(3_600_000);
    assertThat(charge.slots()).isEqualTo(2);
    assertThat(charge.contextIndex()).isZero();
    assertThat(charge.inputIndex()).isEqualTo(1);
    assertThat(charge.inputType()).isEqualTo(Order.class);

    StepModel ship = wf.step("ship");
    assertThat(ship.parents()).containsExactly("validate", "charge");
    assertThat(ship.inputIndex()).isEqualTo(-1);
  }

  @Test
  void appliesDefaults() {
    StepModel validate = Definitions.fromClass(OrderWorkflow.class).step("validate");

    assertThat(validate.parents()).isEmpty();
    assertThat(validate.maxAttempts()).isEqualTo(1);
    assertThat(validate.initialBackoffMs()).isEqualTo(1_000);
    assertThat(validate.backoffMultiplier()).isEqualTo(2.0);
    assertThat(validate.maxBackoffMs()).isEqualTo(60_000);
    assertThat(validate.executionTimeoutMs()).isZero();
    assertThat(validate.scheduleToStartTimeoutMs()).isZero();
    assertThat(validate.slots()).isEqualTo(1);
    assertThat(validate.contextIndex()).isEqualTo(-1);
    assertThat(validate.inputIndex()).isZero();
  }

  @Test
  void convertsToProto() {
    WorkflowDefinition def = Definitions.fromClass(OrderWorkflow.class).toProto();

    assertThat(def.getName()).isEqualTo("order");
    assertThat(def.getStepsList()).hasSize(3);
    assertThat(def.getSteps(1).getName()).isEqualTo("charge");
    assertThat(def.getSteps(1).getParentsList()).containsExactly("validate");
    assertThat(def.getSteps(1).getRetry().getMaxAttempts()).isEqualTo(5);
    assertThat(def.getSteps(1).getRetry().getInitialBackoffMs()).isEqualTo(250);
    assertThat(def.getSteps(1).getExecutionTimeoutMs()).isEqualTo(30_000);
    assertThat(def.getSteps(1).getSlotCost()).isEqualTo(2);
  }

  @Test
  void genericInputTypeIsKept() throws Exception {
    @Workflow(name = "g")
    class Generic {
      @Step
      public int sum(List<Map<String, Integer>> in) {
        return 0;
      }
    }
    StepModel s = Definitions.fromClass(Generic.class).step("sum");
    assertThat(s.inputType().getTypeName()).isEqualTo("java.util.List<java.util.Map<java.lang.String, java.lang.Integer>>");
  }

  @Workflow(name = "cyclic")
  public static class Cyclic {
    @Step(parents = "c")
    public void a() {}

    @Step(parents = "a")
    public void b() {}

    @Step(parents = "b")
    public void c() {}

    @Step
    public void root() {}
  }

  @Test
  void rejectsCycles() {
    assertThatThrownBy(() -> Definitions.fromClass(Cyclic.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workflow 'cyclic'")
        .hasMessageContaining("cycle")
        .hasMessageContaining("[a, b, c]");
  }

  @Workflow(name = "self")
  public static class SelfParent {
    @Step(parents = "a")
    public void a() {}
  }

  @Test
  void rejectsSelfParent() {
    assertThatThrownBy(() -> Definitions.fromClass(SelfParent.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cycle");
  }

  @Workflow(name = "unknown-parent")
  public static class UnknownParent {
    @Step
    public void a() {}

    @Step(parents = "nope")
    public void b() {}
  }

  @Test
  void rejectsUnknownParent() {
    assertThatThrownBy(() -> Definitions.fromClass(UnknownParent.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("step 'b'")
        .hasMessageContaining("unknown parent 'nope'");
  }

  @Workflow(name = "dup")
  public static class Duplicate {
    @Step(name = "x")
    public void a() {}

    @Step(name = "x")
    public void b() {}
  }

  @Test
  void rejectsDuplicateStepNames() {
    assertThatThrownBy(() -> Definitions.fromClass(Duplicate.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duplicate step name 'x'");
  }

  @Workflow(name = "bad-duration")
  public static class BadDuration {
    @Step(executionTimeout = "10 parsecs")
    public void slow() {}
  }

  @Test
  void rejectsBadDurationNamingWorkflowStepAndAttribute() {
    assertThatThrownBy(() -> Definitions.fromClass(BadDuration.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workflow 'bad-duration'")
        .hasMessageContaining("step 'slow'")
        .hasMessageContaining("executionTimeout")
        .hasMessageContaining("10 parsecs");
  }

  @Workflow(name = "two-inputs")
  public static class TwoInputs {
    @Step
    public void a(String x, Integer y) {}
  }

  @Workflow(name = "zero-attempts")
  public static class ZeroAttempts {
    @Step(maxAttempts = 0)
    public void a() {}
  }

  @Workflow(name = "empty")
  public static class Empty {}

  public static class NotAWorkflow {
    @Step
    public void a() {}
  }

  @Test
  void rejectsOtherMistakes() {
    assertThatThrownBy(() -> Definitions.fromClass(TwoInputs.class))
        .hasMessageContaining("at most one input parameter");
    assertThatThrownBy(() -> Definitions.fromClass(ZeroAttempts.class))
        .hasMessageContaining("maxAttempts must be >= 1");
    assertThatThrownBy(() -> Definitions.fromClass(Empty.class))
        .hasMessageContaining("no public @Step methods");
    assertThatThrownBy(() -> Definitions.fromClass(NotAWorkflow.class))
        .hasMessageContaining("not a workflow");
  }

  @Test
  void parsesDurations() {
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(Durations.parse("PT30S")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("")).isEqualTo(Duration.ZERO);
    for (String bad : List.of("30", "s", "-5s", "5 sec", "PT", "P-1D", "1.5.2s")) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid duration");
    }
  }
}
