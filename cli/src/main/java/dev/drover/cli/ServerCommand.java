package dev.drover.cli;

import dev.drover.server.DroverServer;
import dev.drover.server.config.ConfigException;
import dev.drover.server.config.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code drover server}: starts a server and keeps it running until SIGINT/SIGTERM. */
@Command(name = "server", mixinStandardHelpOptions = true,
    description = {
      "Starts a Drover server. Without --database-url it runs an embedded PostgreSQL in the data directory.",
      "Every flag can also be set with the environment variable named in its description."
    })
final class ServerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "DROVER_DATA_DIR: database, admin token (default ~/.drover).")
  String dataDir;

  @Option(names = "--database-url", paramLabel = "URL",
      description = "DROVER_DATABASE_URL: postgresql://user:password@host:port/db (default: embedded PostgreSQL).")
  String databaseUrl;

  @Option(names = "--http-port", paramLabel = "N", description = "DROVER_HTTP_PORT (default 7070; 0 = any free port).")
  String httpPort;

  @Option(names = "--grpc-port", paramLabel = "N", description = "DROVER_GRPC_PORT (default 7077; 0 = any free port).")
  String grpcPort;

  @Option(names = "--bind", paramLabel = "ADDR", description = "DROVER_BIND_ADDRESS (default 0.0.0.0).")
  String bind;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "DROVER_TOKEN: admin bearer token, at least 16 characters (default: generated into DIR/admin.token).")
  String token;

  @Option(names = "--lease-timeout", paramLabel = "DURATION",
      description = "DROVER_LEASE_TIMEOUT: a worker silent this long loses its steps (default 30s).")
  String leaseTimeout;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ServerConfig.Overrides o = new ServerConfig.Overrides();
    o.dataDir = dataDir;
    o.databaseUrl = databaseUrl;
    o.httpPort = httpPort;
    o.grpcPort = grpcPort;
    o.bindAddress = bind;
    o.token = token;
    o.leaseTimeout = leaseTimeout;
    ServerConfig config;
    DroverServer server;
    try {
      config = ServerConfig.fromEnvironment(System.getenv(), o);
      server = DroverServer.start(config);
    } catch (Exception e) {
      ConfigException ce = find(e, ConfigException.class);
      if (ce != null) {
        err.println("drover: " + Main.firstLine(ce.getMessage()));
        err.flush();
        return Main.EXIT_USAGE;
      }
      String busy = (find(e, java.net.BindException.class) != null || describe(e).contains("already in use")) ? busyPort(config(o)) : null;
      err.println("drover: could not start: " + (busy != null ? busy : describe(e)));
      err.flush();
      return Main.EXIT_FAILURE;
    }

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        err.println("Drover server stopping");
        err.flush();
        server.close();
      } finally {
        stopped.countDown();
      }
    }, "drover-server-shutdown"));

    String host = hostForUrls(config.bindAddress());
    String tokenSource;
    if (token != null) {
      tokenSource = "from --token";
    } else if (config.token() != null) {
      tokenSource = "from DROVER_TOKEN";
    } else {
      tokenSource = config.dataDir().resolve(DroverServer.TOKEN_FILE).toString();
    }
    out.println("Drover server ready");
    out.println("  HTTP   http://" + host + ":" + server.httpPort() + "  (health: /healthz)");
    out.println("  gRPC   " + host + ":" + server.grpcPort());
    out.println("  Data   " + config.dataDir() + "  (" + server.databaseDescription() + ")");
    out.println("  Token  " + tokenSource);
    out.flush();
    stopped.await();
    return 0;
  }

  private static ServerConfig config(ServerConfig.Overrides o) {
    try {
      return ServerConfig.fromEnvironment(System.getenv(), o);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Names the configured port that cannot be bound, or null. */
  private static String busyPort(ServerConfig c) {
    if (c == null) {
      return null;
    }
    String[][] ports = {
      {"" + c.httpPort(), "HTTP", "--http-port or DROVER_HTTP_PORT"},
      {"" + c.grpcPort(), "gRPC", "--grpc-port or DROVER_GRPC_PORT"}
    };
    for (String[] p : ports) {
      int port = Integer.parseInt(p[0]);
      if (port == 0) {
        continue;
      }
      try (java.net.ServerSocket ss = new java.net.ServerSocket()) {
        ss.bind(new java.net.InetSocketAddress(c.bindAddress(), port));
      } catch (IOException ex) {
        return p[1] + " port " + port + " on " + c.bindAddress() + " is already in use (choose another with " + p[2] + ")";
      }
    }
    return null;
  }

  private static String hostForUrls(String bind) {
    if (bind == null || bind.isBlank() || bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("[::]")) {
      return "localhost";
    }
    return bind.contains(":") && !bind.startsWith("[") ? "[" + bind + "]" : bind;
  }

  private static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  /** The exception's message plus its root cause's, on one line. */
  static String describe(Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : Main.firstLine(e.getMessage());
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != e && root.getMessage() != null) {
      String rm = Main.firstLine(root.getMessage());
      if (!msg.contains(rm)) {
        msg = msg + ": " + rm;
      }
    }
    return msg;
  }
}
