package dev.drover.server;

import dev.drover.proto.v1.CronSchedule;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.internal.Transport;
import dev.drover.server.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Helpers of the cron and schedule tests: servers on a shared database, workflows without workers, tick counts. */
final class ScheduleTestSupport {
    private ScheduleTestSupport() {}

    /** A server on an existing database (several of them make replicas). */
    static DroverServer server(Path dir, String jdbcUrl) throws Exception {
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = dir.toString();
        o.databaseUrl = jdbcUrl;
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        o.token = TestServer.TOKEN;
        o.leaseTimeout = "3s";
        o.heartbeatInterval = "500ms";
        return DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
    }

    /** Registers a one-step workflow (no worker needed: the runs a cron starts just wait in the queue). */
    static void putWorkflow(int grpcPort, String name, CronSchedule... crons) {
        try (Transport t = new Transport("127.0.0.1:" + grpcPort, TestServer.TOKEN, Duration.ofSeconds(10))) {
            t.runs().putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(definition(name, crons)).build());
        }
    }

    static WorkflowDefinition definition(String name, CronSchedule... crons) {
        return WorkflowDefinition.newBuilder().setName(name).setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("tick")).addAllCrons(List.of(crons)).build();
    }

    /** Runs of a workflow started by a cron, by tick; a value above 1 is a tick fired twice. */
    static TreeMap<Instant, Integer> runsPerTick(DroverClient client, String workflow) {
        TreeMap<Instant, Integer> out = new TreeMap<>();
        for (RunInfo r : client.listRuns(workflow, null, 1000)) {
            String tick = r.metadata().get("drover.tick");
            if (tick != null) out.merge(Instant.parse(tick), 1, Integer::sum);
        }
        return out;
    }

    static long percentile(List<Long> sorted, double p) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1))));
    }

    static void sleepUntil(Instant t) throws InterruptedException {
        long ms = Duration.between(Instant.now(), t).toMillis();
        if (ms > 0) Thread.sleep(ms);
    }
}
