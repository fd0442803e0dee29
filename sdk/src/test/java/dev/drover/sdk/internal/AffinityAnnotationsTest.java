package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.LabelAffinity;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.Affinity;
import dev.drover.sdk.Step;
import dev.drover.sdk.Sticky;
import dev.drover.sdk.Workflow;
import org.junit.jupiter.api.Test;

class AffinityAnnotationsTest {

  @Workflow(name = "index", sticky = Sticky.HARD)
  public static class Index {
    @Step
    public void fetch() {}

    @Step(parents = "fetch", slots = 4)
    @Affinity(key = "gpu", value = "true", required = true)
    @Affinity(key = "region", value = "eu", weight = 10)
    public void embed() {}
  }

  @Workflow(name = "plain")
  public static class Plain {
    @Step
    public void run() {}
  }

  @Workflow(name = "contradiction")
  public static class Contradiction {
    @Step
    @Affinity(key = "gpu", value = "true", required = true)
    @Affinity(key = "gpu", value = "false", required = true)
    public void run() {}
  }

  @Workflow(name = "zero-weight")
  public static class ZeroWeight {
    @Step
    @Affinity(key = "region", value = "eu", weight = 0)
    public void run() {}
  }

  @Workflow(name = "blank-key")
  public static class BlankKey {
    @Step
    @Affinity(key = " ", value = "eu")
    public void run() {}
  }

  @Test
  void affinityAndStickyGoIntoTheDefinition() {
    WorkflowDefinition def = Definitions.fromClass(Index.class).toProto();
    assertThat(def.getSticky()).isEqualTo("hard");
    assertThat(def.getSteps(0).getAffinityList()).isEmpty();
    assertThat(def.getSteps(1).getSlotCost()).isEqualTo(4);
    assertThat(def.getSteps(1).getAffinityList()).containsExactly(
        LabelAffinity.newBuilder().setKey("gpu").setValue("true").setRequired(true).build(),
        LabelAffinity.newBuilder().setKey("region").setValue("eu").setWeight(10).build());
    assertThat(Definitions.fromClass(Plain.class).toProto().getSticky()).isEmpty();
  }

  @Test
  void mistakesFailAtRegistrationNamingTheStep() {
    assertThatThrownBy(() -> Definitions.fromClass(Contradiction.class))
        .hasMessageContaining("step 'run'").hasMessageContaining("required with two values");
    assertThatThrownBy(() -> Definitions.fromClass(ZeroWeight.class))
        .hasMessageContaining("@Affinity(key = \"region\")").hasMessageContaining("weight must be between 1 and 1000000");
    assertThatThrownBy(() -> Definitions.fromClass(BlankKey.class)).hasMessageContaining("key must not be empty");
  }
}
