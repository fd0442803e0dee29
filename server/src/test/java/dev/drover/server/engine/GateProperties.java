package dev.drover.server.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.server.engine.GatePolicy.Decision;
import dev.drover.server.engine.GatePolicy.Group;
import dev.drover.server.engine.GatePolicy.Outcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Invariants of the concurrency gate's decisions ({@link GatePolicy}) driven through a model of the
 * admission loop that {@link Gate} runs in SQL: random streams of arrivals (random keys, limits,
 * strategies, stacked groups) and completions. No limit is ever exceeded; every item that waits is
 * eventually let in; round-robin gives a small key its turn within one round of a big key's backlog.
 */
class GateProperties {
    private static final String[] STRATEGIES = {GatePolicy.ROUND_ROBIN, GatePolicy.QUEUE, GatePolicy.CANCEL_IN_PROGRESS,
            GatePolicy.CANCEL_NEWEST};

    /** An item (run or step) and its groups. */
    static final class Item {
        final int id;
        final List<Group> groups;
        String state = "new"; // waiting | running | done | cancelled

        Item(int id, List<Group> groups) {
            this.id = id;
            this.groups = groups;
        }
    }

    /** The model: the same rules Gate applies with row locks, in memory. */
    static final class Model {
        final Map<String, Integer> running = new HashMap<>();
        final Map<String, Deque<Item>> waiting = new LinkedHashMap<>();
        final Map<String, Deque<Item>> holders = new HashMap<>(); // oldest first
        final List<Item> all = new ArrayList<>();
        final List<Item> startedOrder = new ArrayList<>();

        void arrive(Item it) {
            all.add(it);
            Set<String> keysWaiting = new HashSet<>();
            waiting.forEach((k, q) -> { if (!q.isEmpty()) keysWaiting.add(k); });
            Decision d = GatePolicy.arrive(it.groups, running, keysWaiting);
            if (d.outcome() == Outcome.CANCEL) {
                it.state = "cancelled";
                return;
            }
            if (d.outcome() == Outcome.WAIT) {
                it.state = "waiting";
                for (Group g : it.groups) waiting.computeIfAbsent(g.gkey(), k -> new ArrayDeque<>()).add(it);
                return;
            }
            for (var r : d.replace().entrySet()) {
                for (int i = 0; i < r.getValue(); i++) {
                    Item victim = holders.get(r.getKey()).peekFirst();
                    finish(victim, "cancelled", false);
                }
            }
            start(it);
        }

        void start(Item it) {
            it.state = "running";
            startedOrder.add(it);
            for (Group g : it.groups) {
                running.merge(g.gkey(), 1, Integer::sum);
                holders.computeIfAbsent(g.gkey(), k -> new ArrayDeque<>()).add(it);
            }
            for (Group g : it.groups) {
                Deque<Item> q = waiting.get(g.gkey());
                if (q != null) q.remove(it);
            }
        }

        void finish(Item it, String how, boolean admit) {
            it.state = how;
            for (Group g : it.groups) {
                running.merge(g.gkey(), -1, Integer::sum);
                holders.get(g.gkey()).remove(it);
            }
            if (admit) admitNext(it.groups.stream().map(Group::gkey).toList());
        }

        /** Gate.admitNext: per freed key, the oldest waiting members whose every key has room. */
        void admitNext(List<String> keys) {
            for (String key : keys.stream().sorted().toList()) {
                Deque<Item> q = waiting.getOrDefault(key, new ArrayDeque<>());
                for (Item c : new ArrayList<>(q)) {
                    if (GatePolicy.canAdmit(c.groups, running)) start(c);
                }
            }
        }

        void checkLimits() {
            for (Item it : all) {
                for (Group g : it.groups) {
                    assertThat(running.getOrDefault(g.gkey(), 0)).as("holders of %s", g.gkey()).isLessThanOrEqualTo(g.max());
                }
            }
            running.values().forEach(v -> assertThat(v).isGreaterThanOrEqualTo(0));
        }
    }

    @Property(tries = 300)
    void no_limit_is_ever_exceeded_and_every_waiting_item_gets_in(
            @ForAll @IntRange(min = 1, max = 5) int keys, @ForAll @IntRange(min = 1, max = 200) int events,
            @ForAll long seed) {
        Random r = new Random(seed);
        Map<String, Group> groupOfKey = new HashMap<>();
        for (int k = 0; k < keys; k++) {
            String s = STRATEGIES[r.nextInt(STRATEGIES.length)];
            groupOfKey.put("g0|" + k, new Group("g0|" + k, 1 + r.nextInt(4), s));
        }
        // An optional second, stacked group over every key (a global cap), waiting-type only.
        Group global = new Group("g1|", 2 + r.nextInt(6), r.nextBoolean() ? GatePolicy.ROUND_ROBIN : GatePolicy.QUEUE);
        boolean stacked = r.nextBoolean();
        Model m = new Model();
        int id = 0;
        for (int e = 0; e < events; e++) {
            List<Item> running = m.all.stream().filter(i -> i.state.equals("running")).toList();
            if (!running.isEmpty() && r.nextInt(3) == 0) {
                m.finish(running.get(r.nextInt(running.size())), "done", true);
            } else {
                List<Group> gs = new ArrayList<>(List.of(groupOfKey.get("g0|" + r.nextInt(keys))));
                if (stacked) gs.add(global);
                m.arrive(new Item(id++, gs));
            }
            m.checkLimits();
        }
        // Liveness: finishing whatever runs lets every waiting item in, one by one.
        for (int guard = 0; guard < 10_000; guard++) {
            List<Item> running = m.all.stream().filter(i -> i.state.equals("running")).toList();
            if (running.isEmpty()) break;
            m.finish(running.get(0), "done", true);
            m.checkLimits();
        }
        assertThat(m.all).noneMatch(i -> i.state.equals("waiting") || i.state.equals("running"));
    }

    @Property(tries = 100)
    void round_robin_lets_a_small_key_in_within_one_round_of_a_big_backlog(
            @ForAll @IntRange(min = 1, max = 8) int max, @ForAll @IntRange(min = 50, max = 2_000) int big,
            @ForAll @IntRange(min = 1, max = 50) int small) {
        Group a = new Group("g|A", max, GatePolicy.ROUND_ROBIN);
        Group b = new Group("g|B", max, GatePolicy.ROUND_ROBIN);
        Model m = new Model();
        int id = 0;
        for (int i = 0; i < big; i++) m.arrive(new Item(id++, List.of(a)));
        int startedBefore = m.startedOrder.size();
        for (int i = 0; i < small; i++) m.arrive(new Item(id++, List.of(b)));
        // One worker serves admitted items oldest-admitted first (queue rank = admission time).
        Deque<Item> queue = new ArrayDeque<>(m.startedOrder);
        int served = 0, lastB = -1;
        while (!queue.isEmpty()) {
            Item next = queue.poll();
            served++;
            if (next.groups.get(0) == b) lastB = served;
            int before = m.startedOrder.size();
            m.finish(next, "done", true);
            queue.addAll(m.startedOrder.subList(before, m.startedOrder.size()));
            if (m.all.stream().noneMatch(i -> i.groups.get(0) == b && !i.state.equals("done"))) break;
        }
        // Every B item was served within (A's items already in the queue) + 2 per B item: keys alternate.
        assertThat(lastB).isLessThanOrEqualTo(startedBefore + 2 * small + max);
    }
}
