package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.CreateCronRequest;
import dev.drover.proto.v1.CreateScheduleRequest;
import dev.drover.proto.v1.Cron;
import dev.drover.proto.v1.DeleteCronRequest;
import dev.drover.proto.v1.DeleteCronResponse;
import dev.drover.proto.v1.DeleteScheduleRequest;
import dev.drover.proto.v1.DeleteScheduleResponse;
import dev.drover.proto.v1.GetCronRequest;
import dev.drover.proto.v1.GetScheduleRequest;
import dev.drover.proto.v1.ListCronsRequest;
import dev.drover.proto.v1.ListCronsResponse;
import dev.drover.proto.v1.ListSchedulesRequest;
import dev.drover.proto.v1.ListSchedulesResponse;
import dev.drover.proto.v1.PauseCronRequest;
import dev.drover.proto.v1.RescheduleScheduleRequest;
import dev.drover.proto.v1.ResumeCronRequest;
import dev.drover.proto.v1.Schedule;
import dev.drover.proto.v1.ScheduleServiceGrpc;
import dev.drover.proto.v1.ScheduleStatus;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.Schedules;
import dev.drover.server.engine.Schedules.CronView;
import dev.drover.server.engine.Schedules.ScheduleView;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.Locale;

/** Crons and one-time schedules over gRPC. */
final class ScheduleServiceImpl extends ScheduleServiceGrpc.ScheduleServiceImplBase {
    private final Engine engine;

    ScheduleServiceImpl(Engine engine) {
        this.engine = engine;
    }

    private static String tenant() {
        return AuthInterceptor.TENANT.get();
    }

    private Schedules schedules() {
        return engine.schedules();
    }

    @Override
    public void createCron(CreateCronRequest req, StreamObserver<Cron> out) {
        Statuses.unary(out, () -> cron(schedules().createCron(tenant(), new Schedules.NewCron(req.getWorkflowName(),
                req.getName(), req.getExpression(), req.getTimeZone(), req.getInputJson(), req.getMetadataMap(),
                req.getMissedTicks(), req.getPaused()))));
    }

    @Override
    public void listCrons(ListCronsRequest req, StreamObserver<ListCronsResponse> out) {
        Statuses.unary(out, () -> {
            ListCronsResponse.Builder b = ListCronsResponse.newBuilder();
            schedules().listCrons(tenant(), req.getWorkflowName()).forEach(c -> b.addCrons(cron(c)));
            return b.build();
        });
    }

    @Override
    public void getCron(GetCronRequest req, StreamObserver<Cron> out) {
        Statuses.unary(out, () -> cron(schedules().getCron(tenant(), req.getCronId())));
    }

    @Override
    public void pauseCron(PauseCronRequest req, StreamObserver<Cron> out) {
        Statuses.unary(out, () -> cron(schedules().pauseCron(tenant(), req.getCronId())));
    }

    @Override
    public void resumeCron(ResumeCronRequest req, StreamObserver<Cron> out) {
        Statuses.unary(out, () -> cron(schedules().resumeCron(tenant(), req.getCronId())));
    }

    @Override
    public void deleteCron(DeleteCronRequest req, StreamObserver<DeleteCronResponse> out) {
        Statuses.unary(out, () -> {
            schedules().deleteCron(tenant(), req.getCronId());
            return DeleteCronResponse.getDefaultInstance();
        });
    }

    @Override
    public void createSchedule(CreateScheduleRequest req, StreamObserver<Schedule> out) {
        Statuses.unary(out, () -> schedule(schedules().createSchedule(tenant(), req.getWorkflowName(), req.getInputJson(),
                req.getMetadataMap(), req.getFireAtMs(), req.getDelayMs(), req.getScheduleId())));
    }

    @Override
    public void listSchedules(ListSchedulesRequest req, StreamObserver<ListSchedulesResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getStatus() == ScheduleStatus.UNRECOGNIZED) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "status: unknown value " + req.getStatusValue());
            }
            String status = req.getStatus() == ScheduleStatus.SCHEDULE_STATUS_UNSPECIFIED ? null
                    : req.getStatus().name().substring("SCHEDULE_STATUS_".length()).toLowerCase(Locale.ROOT);
            ListSchedulesResponse.Builder b = ListSchedulesResponse.newBuilder();
            schedules().listSchedules(tenant(), req.getWorkflowName(), status, req.getLimit()).forEach(s -> b.addSchedules(schedule(s)));
            return b.build();
        });
    }

    @Override
    public void getSchedule(GetScheduleRequest req, StreamObserver<Schedule> out) {
        Statuses.unary(out, () -> schedule(schedules().getSchedule(tenant(), req.getScheduleId())));
    }

    @Override
    public void rescheduleSchedule(RescheduleScheduleRequest req, StreamObserver<Schedule> out) {
        Statuses.unary(out, () -> schedule(schedules().reschedule(tenant(), req.getScheduleId(), req.getFireAtMs(), req.getDelayMs())));
    }

    @Override
    public void deleteSchedule(DeleteScheduleRequest req, StreamObserver<DeleteScheduleResponse> out) {
        Statuses.unary(out, () -> {
            schedules().deleteSchedule(tenant(), req.getScheduleId());
            return DeleteScheduleResponse.getDefaultInstance();
        });
    }

    static Cron cron(CronView c) {
        Cron.Builder b = Cron.newBuilder().setId(c.id()).setWorkflowName(c.workflowName()).setName(c.name())
                .setExpression(c.expression()).setTimeZone(c.timeZone()).setInputJson(c.inputJson()).putAllMetadata(c.metadata())
                .setMissedTicks(c.missedTicks()).setPaused(c.paused()).setSource(c.source())
                .setNextFireAtMs(ms(c.nextFireAt())).setLastTickMs(ms(c.lastTickAt())).setCreatedAtMs(ms(c.createdAt()));
        if (c.lastRunId() != null) b.setLastRunId(c.lastRunId());
        if (c.lastError() != null) b.setLastError(c.lastError());
        return b.build();
    }

    static Schedule schedule(ScheduleView s) {
        Schedule.Builder b = Schedule.newBuilder().setId(s.id()).setWorkflowName(s.workflowName()).setInputJson(s.inputJson())
                .putAllMetadata(s.metadata()).setFireAtMs(ms(s.fireAt()))
                .setStatus(ScheduleStatus.valueOf("SCHEDULE_STATUS_" + s.status().toUpperCase(Locale.ROOT)))
                .setFiredAtMs(ms(s.firedAt())).setCreatedAtMs(ms(s.createdAt()));
        if (s.runId() != null) b.setRunId(s.runId());
        if (s.error() != null) b.setError(s.error());
        return b.build();
    }

    private static long ms(Instant t) {
        return t == null ? 0 : t.toEpochMilli();
    }
}
