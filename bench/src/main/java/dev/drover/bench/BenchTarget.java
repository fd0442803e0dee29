package dev.drover.bench;

import dev.drover.server.DroverServer;
import dev.drover.server.config.ConfigException;
import dev.drover.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The server a benchmark talks to: an in-process server on a fresh embedded PostgreSQL in a
 * temporary directory (deleted on close), an in-process server on an external PostgreSQL, or a
 * running server at an address.
 *
 * <pre>{@code
 * try (BenchTarget t = BenchTarget.embedded(msg -> {})) {
 *   DroverClient c = DroverClient.builder().address(t.address()).token(t.token()).build();
 * }
 * }</pre>
 */
public final class BenchTarget implements AutoCloseable {
  private static final List<String> SERVER_ENV = List.of("DROVER_DATA_DIR", "DROVER_HTTP_PORT", "DROVER_GRPC_PORT",
      "DROVER_TOKEN", "DROVER_DATABASE_URL", "DROVER_BIND_ADDRESS", "DROVER_EMBEDDED_PG_PORT");

  private final DroverServer server;
  private final boolean owned;
  private final Path tempDir;
  private final String address;
  private final String token;
  private final String description;
  private final Map<String, String> pgSettings;
  private volatile boolean definitionsRegistered;

  private BenchTarget(DroverServer server, boolean owned, Path tempDir, String address, String token,
      String description) {
    this.server = server;
    this.owned = owned;
    this.tempDir = tempDir;
    this.address = address;
    this.token = token;
    this.description = description;
    Map<String, String> s = new TreeMap<>();
    if (server != null) {
      try {
        s.putAll(server.databaseSettings());
      } catch (RuntimeException e) {
        s.put("error", String.valueOf(e.getMessage()));
      }
    }
    this.pgSettings = s;
  }

  /** An in-process server on a fresh embedded PostgreSQL in a temporary directory. */
  public static BenchTarget embedded(Consumer<String> progress) {
    return start(null, progress);
  }

  /**
   * An in-process server on the given PostgreSQL (it should be an empty database: the benchmark
   * leaves its runs there, and leftovers of earlier benchmarks would be in the measurement).
   */
  public static BenchTarget external(String databaseUrl, Consumer<String> progress) {
    return start(databaseUrl, progress);
  }

  /** A running server (its RSS and PostgreSQL settings are unknown to the benchmark). */
  public static BenchTarget remote(String address, String token) {
    return new BenchTarget(null, false, null, address, token, "external at " + address);
  }

  /** A server started by the caller, which also closes it (tests). */
  public static BenchTarget shared(DroverServer server) {
    return new BenchTarget(server, false, null, "127.0.0.1:" + server.grpcPort(), server.token(),
        "in-process, started by the caller");
  }

  private static BenchTarget start(String databaseUrl, Consumer<String> progress) {
    Path dir;
    try {
      dir = Files.createTempDirectory("drover-bench-");
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a temporary directory: " + e.getMessage(), e);
    }
    progress.accept(databaseUrl == null
        ? "starting a server on a fresh embedded PostgreSQL in " + dir
        : "starting a server on " + redact(databaseUrl));
    Map<String, String> env = new HashMap<>(System.getenv());
    SERVER_ENV.forEach(env::remove);
    ServerConfig.Overrides o = new ServerConfig.Overrides();
    o.dataDir = dir.toString();
    o.databaseUrl = databaseUrl;
    o.httpPort = "0";
    o.grpcPort = "0";
    o.bindAddress = "127.0.0.1";
    try {
      DroverServer s = DroverServer.start(ServerConfig.fromEnvironment(env, o));
      return new BenchTarget(s, true, dir, "127.0.0.1:" + s.grpcPort(), s.token(),
          databaseUrl == null ? "in-process, embedded PostgreSQL" : "in-process, external PostgreSQL");
    } catch (ConfigException e) {
      deleteRecursively(dir);
      throw new BenchUsageException(e.getMessage());
    } catch (IOException | RuntimeException e) {
      deleteRecursively(dir);
      throw new IllegalStateException("could not start the server: " + describe(e), e);
    }
  }

  /** The in-process server, or null for a remote one ({@code --address}). */
  DroverServer server() {
    return server;
  }

  /**
   * The directory on the disk the database writes to when the benchmark started it (embedded
   * PostgreSQL); otherwise the JVM's temporary directory, which may be on another disk.
   */
  Path diskProbeDir() {
    return tempDir != null ? tempDir : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** {@code host:port} of the gRPC endpoint. */
  public String address() {
    return address;
  }

  /** The bearer token, or null. */
  public String token() {
    return token;
  }

  /** Whether the server runs in this JVM (then its RSS is this process's). */
  public boolean inProcess() {
    return server != null;
  }

  /** What kind of server this is, for the report. */
  public String description() {
    return description;
  }

  /** PostgreSQL version and settings (empty for a remote server). */
  public Map<String, String> pgSettings() {
    return pgSettings;
  }

  /** Whether the benchmark workflows were already registered on this server (by this process). */
  boolean definitionsRegistered() {
    return definitionsRegistered;
  }

  void markDefinitionsRegistered() {
    definitionsRegistered = true;
  }

  @Override
  public void close() {
    if (owned && server != null) {
      server.close();
    }
    deleteRecursively(tempDir);
  }

  static String redact(String url) {
    return url.replaceAll("://([^:/@]+):[^@]*@", "://$1:***@");
  }

  private static String describe(Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != e && root.getMessage() != null && !msg.contains(root.getMessage())) {
      msg = msg + ": " + root.getMessage();
    }
    return msg;
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort
        }
      });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
