package dev.drover.server.engine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decisions of the concurrency gate, with no I/O: what happens to a run (or step) that arrives
 * at its concurrency groups, and whether a waiting one may go. {@link Gate} applies them inside
 * transactions that hold the keys' row locks, so replicas never decide on stale counts.
 */
final class GatePolicy {
    static final String ROUND_ROBIN = "round_robin";
    static final String QUEUE = "queue";
    static final String CANCEL_IN_PROGRESS = "cancel_in_progress";
    static final String CANCEL_NEWEST = "cancel_newest";
    static final Set<String> STRATEGIES = Set.of(ROUND_ROBIN, QUEUE, CANCEL_IN_PROGRESS, CANCEL_NEWEST);

    private GatePolicy() {}

    /** One group key of a run or step: the key, its group's limit and strategy. */
    record Group(String gkey, int max, String strategy) {}

    enum Outcome { ADMIT, WAIT, CANCEL }

    /** {@code replace}: for ADMIT under cancel_in_progress, how many of the oldest holders of each key to cancel first. */
    record Decision(Outcome outcome, Map<String, Integer> replace) {}

    /**
     * An arrival. {@code running}: holders per key now; {@code waiting}: keys with members already
     * waiting (a newcomer never overtakes them: FIFO within a key).
     * <ul>
     * <li>cancel_newest, key full: CANCEL the newcomer.</li>
     * <li>round_robin / queue, key full or others waiting: WAIT.</li>
     * <li>otherwise ADMIT, after cancelling enough of the oldest holders of full cancel_in_progress keys.</li>
     * </ul>
     */
    static Decision arrive(List<Group> groups, Map<String, Integer> running, Set<String> waiting) {
        Map<String, Integer> replace = new LinkedHashMap<>();
        boolean blocked = false;
        for (Group g : groups) {
            int holders = running.getOrDefault(g.gkey(), 0);
            boolean full = holders >= g.max();
            switch (g.strategy()) {
                case CANCEL_NEWEST -> {
                    if (full) return new Decision(Outcome.CANCEL, Map.of());
                }
                case CANCEL_IN_PROGRESS -> {
                    if (full) replace.put(g.gkey(), holders - g.max() + 1);
                }
                default -> blocked |= full || waiting.contains(g.gkey());
            }
        }
        return blocked ? new Decision(Outcome.WAIT, Map.of()) : new Decision(Outcome.ADMIT, replace);
    }

    /** A waiting member may go when every one of its keys has room. */
    static boolean canAdmit(List<Group> groups, Map<String, Integer> running) {
        for (Group g : groups) if (running.getOrDefault(g.gkey(), 0) >= g.max()) return false;
        return true;
    }
}
