package dev.drover.cli;

import dev.drover.examples.LocalConnection;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import picocli.CommandLine.Option;

/**
 * Options shared by the commands that talk to a server.
 *
 * <pre>{@code
 * @Mixin ClientOptions client;
 * try (DroverClient c = client.connect()) { ... }
 * }</pre>
 */
public final class ClientOptions {
  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      description = "Server gRPC address (env DROVER_ADDRESS, default localhost:7077).")
  String address;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description = "Bearer token (env DROVER_TOKEN, else the admin.token file in DROVER_DATA_DIR or ~/.drover).")
  String token;

  /**
   * A client for the chosen server.
   *
   * @return a new client; close it when done
   */
  public DroverClient connect() {
    String resolved = LocalConnection.resolveAddress(address);
    probe(resolved.split(",")[0].trim());
    return LocalConnection.connect(resolved, token);
  }

  /**
   * Fails fast when nothing listens at the address: the SDK's calls wait for the server to come up
   * (for up to their 30 s deadline), which is right for applications but not for a command line.
   */
  static void probe(String hostPort) {
    String host;
    int port;
    try {
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new NumberFormatException();
      }
      host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new Main.UsageException("--address: expected HOST:PORT, got '" + hostPort + "'");
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 3000);
    } catch (IOException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new DroverException(DroverException.Code.UNAVAILABLE, "cannot reach the server at " + hostPort + ": " + why);
    }
  }
}
