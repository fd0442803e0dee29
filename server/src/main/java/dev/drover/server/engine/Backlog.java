package dev.drover.server.engine;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which actions may have ready work waiting in the queue. A new run's first step may skip the queue
 * and go straight to a worker with a free slot (direct dispatch) only when its action has no backlog
 * here, so new work never overtakes older queued work of the same kind. The flag is conservative:
 * set whenever this server queues work or a worker connects, cleared by the dispatcher when a claim
 * finds fewer ready tasks than it asked for.
 */
final class Backlog {
    private final Set<String> actions = ConcurrentHashMap.newKeySet();

    static String key(String tenantId, String action) {
        return tenantId + "\u0000" + action;
    }

    void mark(String tenantId, String action) {
        actions.add(key(tenantId, action));
    }

    void clear(String tenantId, String action) {
        actions.remove(key(tenantId, action));
    }

    boolean has(String tenantId, String action) {
        return actions.contains(key(tenantId, action));
    }
}
