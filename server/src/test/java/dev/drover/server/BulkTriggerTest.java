package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Many runs in one call: one transaction, all or nothing, every run executed exactly once. */
class BulkTriggerTest {
    static final Set<Integer> seen = ConcurrentHashMap.newKeySet();

    @Workflow(name = "bulk-wf", version = "1")
    public static class Bulk {
        @Step(name = "one")
        public int one(Map<String, Integer> in) {
            seen.add(in.get("i"));
            return in.get("i");
        }
    }

    @Test
    void ten_thousand_runs_in_one_call_are_all_accepted_and_all_run() {
        try (DroverClient client = TestServer.client()) {
            Worker worker = client.newWorker("bulk").register(new Bulk()).slots(200).start();
            List<RunRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) reqs.add(RunRequest.of("bulk-wf", Map.of("i", i)));
            List<RunHandle> handles = client.runMany(reqs);

            assertThat(handles).hasSize(10_000);
            assertThat(new HashSet<>(handles.stream().map(RunHandle::runId).toList())).hasSize(10_000);
            assertThat(handles.get(9_999).await(Duration.ofSeconds(60)).status()).isEqualTo(RunStatus.SUCCEEDED);
            for (RunHandle h : handles) assertThat(h.await(Duration.ofSeconds(60)).status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(seen).hasSize(10_000);
            worker.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void one_bad_item_rejects_the_whole_batch_naming_it() {
        try (DroverClient client = TestServer.client()) {
            int before = client.listRuns("bulk-wf-2", null, 1000).size();
            client.newWorker("bulk-2").register(new Bulk2()).slots(1).start().close(Duration.ofSeconds(1));
            List<RunRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 100; i++) reqs.add(RunRequest.of("bulk-wf-2", Map.of("i", i)));
            reqs.set(57, RunRequest.of("no-such-workflow", Map.of()));

            assertThatThrownBy(() -> client.runMany(reqs)).isInstanceOfSatisfying(DroverException.class, e -> {
                assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND);
                assertThat(e.getMessage()).contains("runs[57]").contains("no-such-workflow");
            });
            assertThat(client.listRuns("bulk-wf-2", null, 1000)).hasSize(before);
        }
    }

    @Test
    void idempotency_keys_hold_inside_a_batch_and_across_calls() {
        try (DroverClient client = TestServer.client()) {
            client.newWorker("bulk-3").register(new Bulk2()).slots(1).start().close(Duration.ofSeconds(1));
            RunOptions k = RunOptions.defaults().withIdempotencyKey("bulk-key-1");
            List<RunHandle> first = client.runMany(List.of(RunRequest.of("bulk-wf-2", Map.of("i", 1), k),
                    RunRequest.of("bulk-wf-2", Map.of("i", 2), k)));
            assertThat(first.get(0).created()).isTrue();
            assertThat(first.get(1).created()).isFalse();
            assertThat(first.get(1).runId()).isEqualTo(first.get(0).runId());
            List<RunHandle> again = client.runMany(List.of(RunRequest.of("bulk-wf-2", Map.of("i", 3), k)));
            assertThat(again.get(0).runId()).isEqualTo(first.get(0).runId());
            assertThat(again.get(0).created()).isFalse();
        }
    }

    @Workflow(name = "bulk-wf-2", version = "1")
    public static class Bulk2 {
        @Step(name = "one")
        public String one() {
            return "ok";
        }
    }
}
