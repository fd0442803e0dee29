package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.CronSchedule;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.Cron;
import dev.drover.sdk.MissedTicks;
import dev.drover.sdk.Step;
import dev.drover.sdk.Workflow;
import org.junit.jupiter.api.Test;

class CronAnnotationsTest {

  @Workflow(name = "report")
  @Cron(value = "0 7 * * MON-FRI", timeZone = "Europe/Berlin", input = "{\"kind\":\"weekday\"}")
  @Cron(value = "30  0 * * * *", name = "hourly", missedTicks = MissedTicks.SKIP)
  public static class Report {
    @Step
    public void run() {}
  }

  @Workflow(name = "plain")
  public static class Plain {
    @Step
    public void run() {}
  }

  @Workflow(name = "bad-fields")
  @Cron("0 7 * *")
  public static class BadFields {
    @Step
    public void run() {}
  }

  @Workflow(name = "bad-zone")
  @Cron(value = "0 7 * * *", timeZone = "Mars/Olympus")
  public static class BadZone {
    @Step
    public void run() {}
  }

  @Workflow(name = "bad-input")
  @Cron(value = "0 7 * * *", input = "{oops")
  public static class BadInput {
    @Step
    public void run() {}
  }

  @Workflow(name = "twice")
  @Cron("0 7 * * *")
  @Cron("0  7 * * *")
  public static class Twice {
    @Step
    public void run() {}
  }

  @Test
  void declaredCronsGoIntoTheDefinition() {
    WorkflowDefinition def = Definitions.fromClass(Report.class).toProto();
    assertThat(def.getCronsList()).containsExactly(
        CronSchedule.newBuilder().setExpression("0 7 * * MON-FRI").setTimeZone("Europe/Berlin")
            .setInputJson("{\"kind\":\"weekday\"}").setMissedTicks("fire_once").build(),
        CronSchedule.newBuilder().setExpression("30 0 * * * *").setTimeZone("UTC").setInputJson("{}")
            .setName("hourly").setMissedTicks("skip").build());
    assertThat(Definitions.fromClass(Plain.class).toProto().getCronsList()).isEmpty();
  }

  @Test
  void mistakesFailAtRegistrationNamingTheCron() {
    assertThatThrownBy(() -> Definitions.fromClass(BadFields.class))
        .hasMessageContaining("@Cron(\"0 7 * *\")").hasMessageContaining("expected 5 fields");
    assertThatThrownBy(() -> Definitions.fromClass(BadZone.class)).hasMessageContaining("unknown timeZone 'Mars/Olympus'");
    assertThatThrownBy(() -> Definitions.fromClass(BadInput.class)).hasMessageContaining("cannot parse input");
    assertThatThrownBy(() -> Definitions.fromClass(Twice.class)).hasMessageContaining("two crons named '0 7 * * *'");
  }
}
