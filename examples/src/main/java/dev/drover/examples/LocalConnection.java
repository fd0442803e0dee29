package dev.drover.examples;

import dev.drover.sdk.DroverClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Connects to a Drover server the way the {@code drover} command does: the address comes from
 * the argument, else {@code DROVER_ADDRESS}, else {@code localhost:7077}; the token from the
 * argument, else {@code DROVER_TOKEN}, else the {@code admin.token} file a local server writes into
 * its data directory ({@code DROVER_DATA_DIR}, else {@code ~/.drover}).
 *
 * <pre>{@code
 * try (DroverClient client = LocalConnection.connect(null, null)) {
 *   client.run("order", new OrderWorkflow.Order("o-1", "c-1", 42.5));
 * }
 * }</pre>
 */
public final class LocalConnection {
  /** Address used when neither an argument nor {@code DROVER_ADDRESS} gives one. */
  public static final String DEFAULT_ADDRESS = "localhost:7077";

  /** Name of the token file in the data directory (same as the server's). */
  public static final String TOKEN_FILE = "admin.token";

  private LocalConnection() {}

  /**
   * A client for the given or default server.
   *
   * @param addressOrNull {@code host:port} (a comma-separated list is accepted), or {@code null}
   * @param tokenOrNull the bearer token, or {@code null} to look it up
   * @return a client; it connects lazily on the first call
   */
  public static DroverClient connect(String addressOrNull, String tokenOrNull) {
    DroverClient.Builder b = DroverClient.builder().addresses(addresses(resolveAddress(addressOrNull)));
    String token = resolveToken(tokenOrNull);
    if (token != null) {
      b.token(token);
    }
    return b.build();
  }

  /**
   * The address to use: the argument, else {@code DROVER_ADDRESS}, else {@code localhost:7077}.
   *
   * @param addressOrNull an explicit address, or {@code null}
   * @return the address
   */
  public static String resolveAddress(String addressOrNull) {
    if (!blank(addressOrNull)) {
      return addressOrNull.trim();
    }
    String env = System.getenv("DROVER_ADDRESS");
    return blank(env) ? DEFAULT_ADDRESS : env.trim();
  }

  /**
   * The token to use: the argument, else {@code DROVER_TOKEN}, else the content of {@link
   * #tokenFile()} if it exists, else {@code null}.
   *
   * @param tokenOrNull an explicit token, or {@code null}
   * @return the token, or {@code null} when none is known
   */
  public static String resolveToken(String tokenOrNull) {
    if (!blank(tokenOrNull)) {
      return tokenOrNull.trim();
    }
    String env = System.getenv("DROVER_TOKEN");
    if (!blank(env)) {
      return env.trim();
    }
    Path file = tokenFile();
    if (Files.isReadable(file)) {
      try {
        String t = Files.readString(file).trim();
        return t.isEmpty() ? null : t;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the token file " + file + ": " + e.getMessage(), e);
      }
    }
    return null;
  }

  /**
   * The data directory of a local server: {@code DROVER_DATA_DIR}, else {@code ~/.drover}.
   *
   * @return the absolute data directory path
   */
  public static Path dataDir() {
    String env = System.getenv("DROVER_DATA_DIR");
    Path p = blank(env) ? Path.of(System.getProperty("user.home"), ".drover") : Path.of(env.trim());
    return p.toAbsolutePath();
  }

  /**
   * Where a local server keeps its generated admin token.
   *
   * @return {@code <data dir>/admin.token}
   */
  public static Path tokenFile() {
    return dataDir().resolve(TOKEN_FILE);
  }

  private static List<String> addresses(String address) {
    List<String> list = new ArrayList<>();
    for (String a : address.split(",")) {
      if (!a.isBlank()) {
        list.add(a.trim());
      }
    }
    if (list.isEmpty()) {
      list.add(DEFAULT_ADDRESS);
    }
    return list;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
