package dev.drover.server.config;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything a server needs to start, validated once. Each setting comes from a flag, else from the
 * environment variable named here, else from its default.
 *
 * @param dataDir          DROVER_DATA_DIR: the embedded database, the generated admin token and logs live here
 * @param databaseUrl      DROVER_DATABASE_URL: {@code postgresql://user:pass@host:port/db}; null = embedded PostgreSQL
 * @param httpPort         DROVER_HTTP_PORT (0 = pick a free port)
 * @param grpcPort         DROVER_GRPC_PORT (0 = pick a free port)
 * @param bindAddress      DROVER_BIND_ADDRESS
 * @param token            DROVER_TOKEN: the admin bearer token; null = generate one into the data directory
 * @param leaseTimeout     DROVER_LEASE_TIMEOUT: a worker silent this long loses its steps
 * @param heartbeatInterval DROVER_HEARTBEAT_INTERVAL: what workers are told to use
 * @param retention        DROVER_RETENTION: finished runs older than this are pruned
 * @param dbPoolSize       DROVER_DB_POOL_SIZE
 * @param embeddedPgPort   DROVER_EMBEDDED_PG_PORT (0 = pick a free port)
 * @param embeddedPgSettings DROVER_EMBEDDED_PG_SETTINGS: extra postgresql.conf settings, "name=value,name=value"
 * @param maxPayloadBytes  DROVER_MAX_PAYLOAD: the largest run input or step output accepted (default 4 MiB)
 */
public record ServerConfig(Path dataDir, String databaseUrl, int httpPort, int grpcPort, String bindAddress,
                           String token, Duration leaseTimeout, Duration heartbeatInterval, Duration retention,
                           int dbPoolSize, int embeddedPgPort, Map<String, String> embeddedPgSettings,
                           int maxPayloadBytes) {

    public static final int DEFAULT_HTTP_PORT = 7070;
    public static final int DEFAULT_GRPC_PORT = 7077;

    public ServerConfig {
        if (dataDir == null) throw new ConfigException("DROVER_DATA_DIR: must be set");
        checkPort("DROVER_HTTP_PORT", httpPort);
        checkPort("DROVER_GRPC_PORT", grpcPort);
        checkPort("DROVER_EMBEDDED_PG_PORT", embeddedPgPort);
        if (httpPort != 0 && httpPort == grpcPort) {
            throw new ConfigException("DROVER_HTTP_PORT and DROVER_GRPC_PORT: must differ (both are " + httpPort + ")");
        }
        if (databaseUrl != null) JdbcTarget.parse(databaseUrl);
        if (token != null && token.length() < 16) {
            throw new ConfigException("DROVER_TOKEN: must be at least 16 characters");
        }
        if (leaseTimeout.compareTo(Duration.ofMillis(500)) < 0) {
            throw new ConfigException("DROVER_LEASE_TIMEOUT: must be at least 500ms, got " + leaseTimeout);
        }
        if (heartbeatInterval.compareTo(leaseTimeout) >= 0) {
            throw new ConfigException("DROVER_HEARTBEAT_INTERVAL: must be shorter than DROVER_LEASE_TIMEOUT ("
                    + heartbeatInterval + " >= " + leaseTimeout + ")");
        }
        if (maxPayloadBytes < 1024 || maxPayloadBytes > 32 * 1024 * 1024) {
            throw new ConfigException("DROVER_MAX_PAYLOAD: must be between 1024 and 33554432 bytes, got " + maxPayloadBytes);
        }
        if (dbPoolSize < 2 || dbPoolSize > 500) {
            throw new ConfigException("DROVER_DB_POOL_SIZE: must be between 2 and 500, got " + dbPoolSize);
        }
    }

    private static void checkPort(String name, int port) {
        if (port < 0 || port > 65535) throw new ConfigException(name + ": must be a port number 0-65535, got " + port);
    }

    /** Reads the environment, applying defaults; flags override by passing non-null values. */
    public static ServerConfig fromEnvironment(Map<String, String> env, Overrides o) {
        String home = System.getProperty("user.home");
        Path dataDir = Path.of(pick(o.dataDir, env.get("DROVER_DATA_DIR"), Path.of(home, ".drover").toString()))
                .toAbsolutePath();
        String url = blankToNull(pick(o.databaseUrl, env.get("DROVER_DATABASE_URL"), null));
        return new ServerConfig(dataDir, url,
                intSetting(name(o.httpPort, "--http-port", "DROVER_HTTP_PORT"),
                        pick(o.httpPort, env.get("DROVER_HTTP_PORT"), "" + DEFAULT_HTTP_PORT)),
                intSetting(name(o.grpcPort, "--grpc-port", "DROVER_GRPC_PORT"),
                        pick(o.grpcPort, env.get("DROVER_GRPC_PORT"), "" + DEFAULT_GRPC_PORT)),
                pick(o.bindAddress, env.get("DROVER_BIND_ADDRESS"), "0.0.0.0"),
                blankToNull(pick(o.token, env.get("DROVER_TOKEN"), null)),
                duration(name(o.leaseTimeout, "--lease-timeout", "DROVER_LEASE_TIMEOUT"),
                        pick(o.leaseTimeout, env.get("DROVER_LEASE_TIMEOUT"), "30s")),
                duration(name(o.heartbeatInterval, "--heartbeat-interval", "DROVER_HEARTBEAT_INTERVAL"),
                        pick(o.heartbeatInterval, env.get("DROVER_HEARTBEAT_INTERVAL"), "")),
                duration("DROVER_RETENTION", pick(null, env.get("DROVER_RETENTION"), "30d")),
                intSetting("DROVER_DB_POOL_SIZE", pick(null, env.get("DROVER_DB_POOL_SIZE"), "24")),
                intSetting("DROVER_EMBEDDED_PG_PORT", pick(null, env.get("DROVER_EMBEDDED_PG_PORT"), "0")),
                pgSettings(pick(null, env.get("DROVER_EMBEDDED_PG_SETTINGS"), "")),
                intSetting("DROVER_MAX_PAYLOAD", pick(null, env.get("DROVER_MAX_PAYLOAD"), "" + 4 * 1024 * 1024)));
    }

    private static Map<String, String> pgSettings(String value) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String part : value.split(",")) {
            if (part.isBlank()) continue;
            String[] kv = part.split("=", 2);
            if (kv.length != 2 || !kv[0].trim().matches("[a-z_.]+") || kv[1].isBlank()) {
                throw new ConfigException("DROVER_EMBEDDED_PG_SETTINGS: expected name=value,name=value, got '" + part + "'");
            }
            out.put(kv[0].trim(), kv[1].trim());
        }
        return Map.copyOf(out);
    }

    /** Error messages name the setting the way the user gave it. */
    private static String name(String flagValue, String flag, String env) {
        return flagValue != null ? flag : env;
    }

    /** Values given on the command line; null = not given. */
    public static final class Overrides {
        public String dataDir, databaseUrl, httpPort, grpcPort, bindAddress, token, leaseTimeout, heartbeatInterval;
    }

    private static String pick(String flag, String env, String dflt) {
        if (flag != null) return flag;
        if (env != null && !env.isBlank()) return env;
        return dflt;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static int intSetting(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(name + ": expected a number, got '" + value + "'");
        }
    }

    /**
     * Parses "250ms", "30s", "5m", "2h", "30d" or ISO-8601 ("PT30S"). An empty value for the heartbeat
     * means "a third of the lease timeout", resolved by the caller.
     */
    public static Duration duration(String name, String value) {
        String v = value.trim();
        if (v.isEmpty()) return Duration.ZERO;
        try {
            if (v.startsWith("P") || v.startsWith("p")) return Duration.parse(v.toUpperCase(java.util.Locale.ROOT));
            int i = 0;
            while (i < v.length() && (Character.isDigit(v.charAt(i)))) i++;
            if (i == 0) throw new NumberFormatException();
            long n = Long.parseLong(v.substring(0, i));
            return switch (v.substring(i).trim()) {
                case "ms" -> Duration.ofMillis(n);
                case "s", "" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new ConfigException(name + ": expected a duration like 500ms, 30s, 5m, 2h or 30d, got '" + value + "'");
        }
    }

    /** A JDBC URL with the credentials pulled out of a postgresql:// URL. */
    public record JdbcTarget(String jdbcUrl, String user, String password) {
        public static JdbcTarget parse(String url) {
            if (url.startsWith("jdbc:postgresql:")) return new JdbcTarget(url, null, null);
            if (!url.startsWith("postgresql://") && !url.startsWith("postgres://")) {
                throw new ConfigException("DROVER_DATABASE_URL: expected postgresql://user:password@host:port/database, got '"
                        + redact(url) + "'");
            }
            try {
                URI u = URI.create(url);
                if (u.getHost() == null) throw new IllegalArgumentException("no host");
                String user = null, password = null;
                if (u.getRawUserInfo() != null) {
                    String[] parts = u.getRawUserInfo().split(":", 2);
                    user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
                    if (parts.length > 1) password = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
                }
                String db = u.getPath() == null || u.getPath().length() <= 1 ? "/postgres" : u.getPath();
                String jdbc = "jdbc:postgresql://" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "") + db
                        + (u.getRawQuery() != null ? "?" + u.getRawQuery() : "");
                return new JdbcTarget(jdbc, user, password);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("DROVER_DATABASE_URL: not a valid URL (" + e.getMessage() + "): '" + redact(url) + "'");
            }
        }

        private static String redact(String url) {
            return url.replaceAll("://([^:/@]+):[^@]*@", "://$1:***@");
        }
    }

    /** The heartbeat interval workers are told to use: the configured one, or a third of the lease timeout. */
    public Duration effectiveHeartbeat() {
        return heartbeatInterval.isZero() ? leaseTimeout.dividedBy(3) : heartbeatInterval;
    }
}
