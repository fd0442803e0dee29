package dev.drover.server.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.function.BiConsumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTEN/NOTIFY between server replicas, on one dedicated connection outside the pool. Only used as
 * a hint ("there is new work", "stop this attempt"): every decision is still taken from the tables,
 * so a lost notification only costs the time until the next poll.
 */
public final class Notifications implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Notifications.class);

    private final String jdbcUrl;
    private final Properties props = new Properties();
    private final List<String> channels;
    private final BiConsumer<String, String> handler;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Connection connection;

    Notifications(String jdbcUrl, String user, String password, List<String> channels, BiConsumer<String, String> handler) {
        this.jdbcUrl = jdbcUrl;
        if (user != null) props.setProperty("user", user);
        if (password != null) props.setProperty("password", password);
        props.setProperty("ApplicationName", "drover-server-listen");
        props.setProperty("tcpKeepAlive", "true");
        this.channels = List.copyOf(channels);
        this.handler = handler;
        this.thread = Thread.ofPlatform().name("drover-listen").daemon(true).start(this::loop);
    }

    private void loop() {
        long backoff = 100;
        while (running) {
            try (Connection c = DriverManager.getConnection(jdbcUrl, props)) {
                connection = c;
                try (Statement st = c.createStatement()) {
                    for (String ch : channels) st.execute("LISTEN " + ch);
                }
                backoff = 100;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] ns = pg.getNotifications(500);
                    if (ns == null) continue;
                    for (PGNotification n : ns) {
                        try {
                            handler.accept(n.getName(), n.getParameter());
                        } catch (RuntimeException e) {
                            log.warn("Notification handler failed: {}", e.toString());
                        }
                    }
                }
            } catch (SQLException e) {
                if (!running) return;
                log.debug("LISTEN connection lost ({}); reconnecting in {} ms", e.getMessage(), backoff);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(5_000, backoff * 2);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        thread.interrupt();
    }
}
