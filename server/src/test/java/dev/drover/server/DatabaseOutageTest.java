package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.server.config.ServerConfig;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The database goes away under a running server: the API says 503 with Retry-After (never 500, never
 * a hang), and when the database is back the server, its workers and its clients carry on by themselves.
 */
class DatabaseOutageTest {

    @Workflow(name = "outage-wf", version = "1")
    public static class Work {
        @Step(name = "work")
        public String work() {
            return "ok";
        }
    }

    @Test
    void an_outage_is_a_503_and_everything_recovers_when_the_database_returns() throws Exception {
        Path dir = TestServer.tempDir("outage-");
        int pgPort = TestServer.freePort();
        EmbeddedPostgresLauncher pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), pgPort);
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = dir.resolve("server").toString();
        o.databaseUrl = pg.jdbcUrl();
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        o.token = TestServer.TOKEN;
        o.leaseTimeout = "3s";
        o.heartbeatInterval = "500ms";
        DroverServer server = DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
        HttpClient http = HttpClient.newHttpClient();
        try (DroverClient client = DroverClient.builder().address("127.0.0.1:" + server.grpcPort())
                .token(TestServer.TOKEN).callTimeout(Duration.ofSeconds(8)).build()) {
            Worker worker = client.newWorker("outage").register(new Work()).slots(4).start();
            assertThat(client.run("outage-wf", Map.of()).await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);

            pg.close(); // the database goes away

            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.httpPort() + "/api/v1/runs"))
                    .header("Authorization", "Bearer " + TestServer.TOKEN)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"workflow\":\"outage-wf\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(503);
            assertThat(resp.headers().firstValue("Retry-After")).isPresent();
            assertThat(resp.body()).contains("database");
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThatThrownBy(() -> client.run("outage-wf", Map.of()))
                    .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.UNAVAILABLE));

            pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), pgPort); // back, same data

            RunHandle after = client.run("outage-wf", Map.of());
            assertThat(after.await(Duration.ofSeconds(20)).status()).isEqualTo(RunStatus.SUCCEEDED);
            worker.close(Duration.ofSeconds(5));
        } finally {
            server.close();
            pg.close();
        }
    }
}
