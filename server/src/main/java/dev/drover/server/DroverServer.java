package dev.drover.server;

import dev.drover.server.config.ServerConfig;
import dev.drover.server.config.ServerConfig.JdbcTarget;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineSettings;
import dev.drover.server.store.Database;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import dev.drover.server.transport.grpc.GrpcTransport;
import dev.drover.server.transport.http.HttpTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Drover server process: the store (embedded or external PostgreSQL), the engine, and the gRPC
 * and HTTP endpoints, wired in that order and closed in the reverse one.
 *
 * <pre>{@code
 * try (DroverServer server = DroverServer.start(config)) {
 *     System.out.println("gRPC on " + server.grpcPort());
 * }
 * }</pre>
 */
public final class DroverServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DroverServer.class);
    public static final String TOKEN_FILE = "admin.token";

    private final ServerConfig config;
    private final EmbeddedPostgresLauncher embedded;
    private final Database db;
    private final Engine engine;
    private final GrpcTransport grpc;
    private final HttpTransport http;
    private final String token;
    private final String databaseDescription;

    private DroverServer(ServerConfig config, EmbeddedPostgresLauncher embedded, Database db, Engine engine,
                         GrpcTransport grpc, HttpTransport http, String token, String databaseDescription) {
        this.config = config;
        this.embedded = embedded;
        this.db = db;
        this.engine = engine;
        this.grpc = grpc;
        this.http = http;
        this.token = token;
        this.databaseDescription = databaseDescription;
    }

    public static DroverServer start(ServerConfig config) throws IOException {
        Files.createDirectories(config.dataDir());
        String token = config.token() != null ? config.token() : adminToken(config.dataDir());
        EmbeddedPostgresLauncher embedded = null;
        Database db = null;
        Engine engine = null;
        GrpcTransport grpc = null;
        try {
            String description;
            if (config.databaseUrl() == null) {
                embedded = EmbeddedPostgresLauncher.start(config.dataDir(), config.embeddedPgPort(), config.embeddedPgSettings());
                db = Database.open(embedded.jdbcUrl(), null, null, config.dbPoolSize());
                description = "embedded PostgreSQL on 127.0.0.1:" + embedded.port() + ", data in " + embedded.pgData();
            } else {
                JdbcTarget t = JdbcTarget.parse(config.databaseUrl());
                db = Database.open(t.jdbcUrl(), t.user(), t.password(), config.dbPoolSize());
                description = t.jdbcUrl().replaceFirst("^jdbc:", "");
            }
            engine = new Engine(db, new EngineSettings(config.leaseTimeout(), config.effectiveHeartbeat(),
                    config.retention(), Duration.ofMillis(200), config.maxPayloadBytes())).start();
            grpc = new GrpcTransport(engine, config.bindAddress(), config.grpcPort(), token).start();
            HttpTransport http = new HttpTransport(engine, config.bindAddress(), config.httpPort(), token).start();
            return new DroverServer(config, embedded, db, engine, grpc, http, token, description);
        } catch (IOException | RuntimeException e) {
            if (grpc != null) grpc.close();
            if (engine != null) engine.close();
            if (db != null) db.close();
            if (embedded != null) embedded.close();
            throw e;
        }
    }

    /**
     * Starts a server configured from DROVER_* environment variables and runs until the process is
     * told to stop (SIGTERM/SIGINT). The CLI's {@code drover server} adds flags on top of this.
     */
    public static void main(String[] args) throws Exception {
        DroverServer server = start(ServerConfig.fromEnvironment(System.getenv(), new ServerConfig.Overrides()));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "drover-shutdown"));
        System.out.println("Drover server ready: http " + server.httpPort() + ", grpc " + server.grpcPort());
        Thread.currentThread().join();
    }

    /** Reads the admin token from the data directory, creating it (owner-only) on first start. */
    static String adminToken(Path dataDir) throws IOException {
        Path file = dataDir.resolve(TOKEN_FILE);
        if (Files.exists(file)) return Files.readString(file).trim();
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        String token = "drv_" + HexFormat.of().formatHex(bytes);
        Path tmp = dataDir.resolve(TOKEN_FILE + ".tmp");
        Files.writeString(tmp, token + "\n");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system (Windows): the user's profile directory protects it
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.info("Generated an admin token in {}", file);
        return token;
    }

    public int grpcPort() { return grpc.port(); }
    public int httpPort() { return http.port(); }
    public String token() { return token; }
    public ServerConfig config() { return config; }
    public Engine engine() { return engine; }
    /**
     * The store this server runs on. For tools in the same JVM that measure the store alone, without
     * the engine and the transports ({@code drover bench ceiling}); the engine owns everything else.
     */
    public dev.drover.server.store.Database database() { return db; }
    public String databaseDescription() { return databaseDescription; }
    public java.util.Map<String, String> databaseSettings() { return db.settings(); }

    /**
     * Graceful stop: no new HTTP requests or gRPC calls; the engine finishes the triggers it accepted, stops
     * dispatching and closes the workers' streams (they reconnect to another replica, keeping their
     * in-flight steps, whose reports any replica accepts); gRPC then waits briefly for calls in
     * progress; the database goes last. Duties held through database locks pass to other replicas
     * as soon as this one's transactions end.
     */
    @Override
    public void close() {
        http.close();
        grpc.stopAccepting();
        engine.close();
        grpc.close();
        db.close();
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.toString());
            }
        }
    }
}
