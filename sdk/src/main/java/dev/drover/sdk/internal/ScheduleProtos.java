package dev.drover.sdk.internal;

import dev.drover.proto.v1.Cron;
import dev.drover.proto.v1.Schedule;
import dev.drover.sdk.CronInfo;
import dev.drover.sdk.MissedTicks;
import dev.drover.sdk.ScheduleInfo;
import dev.drover.sdk.ScheduleStatus;
import java.time.Instant;

/**
 * Converts the protocol's crons and schedules to the SDK's public types.
 *
 * <pre>{@code
 * CronInfo c = ScheduleProtos.toCronInfo(stub.getCron(request));
 * }</pre>
 */
public final class ScheduleProtos {
  private ScheduleProtos() {}

  /** The public view of a cron. */
  public static CronInfo toCronInfo(Cron c) {
    return new CronInfo(c.getId(), c.getWorkflowName(), c.getName(), c.getExpression(), c.getTimeZone(),
        c.getInputJson(), c.getMetadataMap(), MissedTicks.fromWire(c.getMissedTicks()), c.getPaused(),
        "workflow".equals(c.getSource()), instant(c.getNextFireAtMs()), instant(c.getLastTickMs()),
        emptyToNull(c.getLastRunId()), emptyToNull(c.getLastError()), instant(c.getCreatedAtMs()));
  }

  /** The public view of a schedule. */
  public static ScheduleInfo toScheduleInfo(Schedule s) {
    return new ScheduleInfo(s.getId(), s.getWorkflowName(), s.getInputJson(), s.getMetadataMap(),
        instant(s.getFireAtMs()), toStatus(s.getStatus()), emptyToNull(s.getRunId()), instant(s.getFiredAtMs()),
        emptyToNull(s.getError()), instant(s.getCreatedAtMs()));
  }

  /** Public status to protocol; {@code null} means any. */
  public static dev.drover.proto.v1.ScheduleStatus toProto(ScheduleStatus s) {
    if (s == null) {
      return dev.drover.proto.v1.ScheduleStatus.SCHEDULE_STATUS_UNSPECIFIED;
    }
    return dev.drover.proto.v1.ScheduleStatus.valueOf("SCHEDULE_STATUS_" + s.name());
  }

  private static ScheduleStatus toStatus(dev.drover.proto.v1.ScheduleStatus s) {
    return switch (s) {
      case SCHEDULE_STATUS_FIRED -> ScheduleStatus.FIRED;
      case SCHEDULE_STATUS_CANCELLED -> ScheduleStatus.CANCELLED;
      case SCHEDULE_STATUS_FAILED -> ScheduleStatus.FAILED;
      default -> ScheduleStatus.SCHEDULED;
    };
  }

  private static Instant instant(long epochMs) {
    return epochMs == 0 ? null : Instant.ofEpochMilli(epochMs);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
