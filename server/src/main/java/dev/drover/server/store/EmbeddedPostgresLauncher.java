package dev.drover.server.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs PostgreSQL from the binaries shipped in the jar, keeping its data in {@code <dataDir>/pg}.
 *
 * <p>If a previous server process was killed (SIGKILL), its postmaster survives it and still holds
 * the data directory; we stop that orphan first (SIGTERM = "smart" shutdown, which finishes once the
 * dead process's connections are gone) so the restart neither fails nor runs two postmasters.
 */
public final class EmbeddedPostgresLauncher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresLauncher.class);
    private final EmbeddedPostgres pg;
    private final Path pgData;

    private EmbeddedPostgresLauncher(EmbeddedPostgres pg, Path pgData) {
        this.pg = pg;
        this.pgData = pgData;
    }

    public static EmbeddedPostgresLauncher start(Path dataDir, int port) throws IOException {
        return start(dataDir, port, java.util.Map.of());
    }

    /** {@code settings}: extra postgresql.conf settings, applied last (they win over ours). */
    public static EmbeddedPostgresLauncher start(Path dataDir, int port, java.util.Map<String, String> settings)
            throws IOException {
        Path pgData = dataDir.resolve("pg");
        Files.createDirectories(dataDir);
        stopOrphanPostmaster(pgData);
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(pgData)
                .setCleanDataDirectory(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                // zonky starts postgres with -F (fsync off), fine for throwaway test databases but not for
                // a server that promises durability: turn fsync back on (later -c options win).
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_connections", "200")
                .setServerConfig("shared_buffers", "256MB")
                .setServerConfig("listen_addresses", "127.0.0.1")
                // The queue table churns: every task row is inserted, updated and deleted within
                // seconds. Vacuum it often (the default one-minute nap lets dead rows pile up in its
                // indexes, and claims then wade through them) and without throttling.
                .setServerConfig("autovacuum_naptime", "5s")
                .setServerConfig("autovacuum_vacuum_cost_delay", "0")
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolve("postgres.log").toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolve("postgres.log").toFile()));
        if (port > 0) b.setPort(port);
        settings.forEach(b::setServerConfig);
        EmbeddedPostgres pg = b.start();
        return new EmbeddedPostgresLauncher(pg, pgData);
    }

    private static void stopOrphanPostmaster(Path pgData) {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) return;
        try {
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) return;
            long pid = Long.parseLong(lines.get(0).trim());
            Optional<ProcessHandle> ph = ProcessHandle.of(pid);
            if (ph.isEmpty() || !ph.get().isAlive()) return;
            String cmd = ph.get().info().command().orElse("");
            if (!cmd.contains("postgres")) return; // pid reused by something else: leave it alone
            log.warn("A PostgreSQL (pid {}) from an earlier server process still holds {}; stopping it", pid, pgData);
            ph.get().destroy();
            try {
                ph.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                ph.get().destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException e) {
                log.warn("Waiting for the old PostgreSQL failed: {}", e.toString());
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Could not inspect {}: {}", pidFile, e.toString());
        }
    }

    public String jdbcUrl() {
        return pg.getJdbcUrl("postgres", "postgres");
    }

    public int port() {
        return pg.getPort();
    }

    public Path pgData() {
        return pgData;
    }

    @Override
    public void close() throws IOException {
        pg.close();
    }
}
