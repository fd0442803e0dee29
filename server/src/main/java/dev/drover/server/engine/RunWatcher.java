package dev.drover.server.engine;

import dev.drover.server.store.Database;
import dev.drover.server.store.RunQueries;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Clients waiting for runs to finish. Runs finished by this server wake their waiters at once; a
 * periodic check of the database covers runs finished by another replica or before a restart.
 */
final class RunWatcher {
    private final Database db;
    private final RunQueries runs = new RunQueries();
    private final Map<UUID, Set<CompletableFuture<Void>>> waiters = new ConcurrentHashMap<>();

    RunWatcher(Database db) {
        this.db = db;
    }

    CompletableFuture<Void> watch(UUID runId) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        waiters.computeIfAbsent(runId, k -> new CopyOnWriteArraySet<>()).add(f);
        return f;
    }

    void unwatch(UUID runId, CompletableFuture<Void> f) {
        waiters.computeIfPresent(runId, (k, set) -> {
            set.remove(f);
            return set.isEmpty() ? null : set;
        });
    }

    void finished(List<UUID> runIds) {
        for (UUID id : runIds) {
            Set<CompletableFuture<Void>> set = waiters.remove(id);
            if (set != null) set.forEach(f -> f.complete(null));
        }
    }

    /** Called periodically. */
    void checkDatabase() {
        if (waiters.isEmpty()) return;
        UUID[] ids = waiters.keySet().toArray(UUID[]::new);
        finished(db.inTx(tx -> runs.finishedAmong(tx, ids)));
    }
}
