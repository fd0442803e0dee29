package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real Drover server on a fresh embedded PostgreSQL, in this JVM, on free loopback ports. One is
 * shared by the tests of a JVM (tests keep apart by using their own workflow names); tests that kill
 * processes start their own server processes instead.
 */
public final class TestServer {
    public static final String TOKEN = "test-token-0123456789abcdef";
    private static DroverServer shared;

    private TestServer() {}

    private static final List<Path> created = new java.util.concurrent.CopyOnWriteArrayList<>();

    static {
        // Every embedded database is tens of MB: remove this JVM's temp dirs when the tests are done.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (TestServer.class) {
                if (shared != null) shared.close();
            }
            created.forEach(TestServer::deleteQuietly);
        }));
    }

    public static synchronized DroverServer shared() {
        if (shared == null) shared = start(tempDir("drover-test-"));
        return shared;
    }

    public static DroverServer start(Path dataDir) {
        return start(dataDir, "3s");
    }

    /** A server whose workers' leases last {@code leaseTimeout} (e.g. "20s"). */
    public static DroverServer start(Path dataDir, String leaseTimeout) {
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = dataDir.toString();
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        o.token = TOKEN;
        o.leaseTimeout = leaseTimeout;
        o.heartbeatInterval = "500ms";
        try {
            Map<String, String> env = new HashMap<>();
            String pg = System.getenv("DROVER_EMBEDDED_PG_SETTINGS");
            if (pg != null) env.put("DROVER_EMBEDDED_PG_SETTINGS", pg);
            return DroverServer.start(ServerConfig.fromEnvironment(env, o));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static DroverClient client(int grpcPort) {
        return DroverClient.builder().address("127.0.0.1:" + grpcPort).token(TOKEN).callTimeout(Duration.ofSeconds(30)).build();
    }

    /** A plaintext channel to a test server's gRPC port, for tests that speak the protocol themselves. */
    public static io.grpc.ManagedChannel channel(int grpcPort) {
        return io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    }

    /** Sends the test token with every call: {@code SomeServiceGrpc.newBlockingStub(channel).withInterceptors(TestServer.auth())}. */
    public static io.grpc.ClientInterceptor auth() {
        io.grpc.Metadata md = new io.grpc.Metadata();
        md.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md);
    }

    public static DroverClient client() {
        return client(shared().grpcPort());
    }

    public static Path tempDir(String prefix) {
        try {
            Path base = Path.of("target", "tmp");
            Files.createDirectories(base);
            Path dir = Files.createTempDirectory(base.toAbsolutePath(), prefix);
            created.add(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A free port below the kernel's ephemeral range, for a process that is restarted on the same
     * port. A port from that range ({@code new ServerSocket(0)}) can be taken while the process is
     * down: a client redialing it may be handed that very port as its local one and connect to itself
     * (TCP simultaneous open), and the restarted process then fails to bind.
     */
    public static int freePort() {
        int low = 32768;
        try {
            low = Integer.parseInt(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
                    .trim().split("\\s+")[0]);
        } catch (java.io.IOException | RuntimeException notLinux) {
            // keep the Linux default
        }
        int from = Math.max(1024, low / 2); // procfs files report size 0: readAllLines, not readString
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(from, Math.max(from + 1, low));
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new java.net.InetSocketAddress(port));
                return port;
            } catch (IOException inUse) {
                // try another
            }
        }
        throw new IllegalStateException("no free port in " + from + ".." + low);
    }

    /** Starts a JVM with this test classpath running {@code mainClass}. */
    public static Process spawn(Class<?> mainClass, Map<String, String> env, Path log, String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, "-Xmx512m", mainClass.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> e = new HashMap<>(env);
        pb.environment().putAll(e);
        try {
            return pb.start();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
