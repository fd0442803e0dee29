package dev.drover.server.engine;

import dev.drover.proto.v1.ConcurrencyGroup;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.server.engine.GatePolicy.Decision;
import dev.drover.server.engine.GatePolicy.Group;
import dev.drover.server.engine.GatePolicy.Outcome;
import dev.drover.server.store.GateQueries;
import dev.drover.server.store.GateQueries.Member;
import dev.drover.server.store.Rows.RunRow;
import dev.drover.server.store.Rows.ReadyStep;
import dev.drover.server.store.RunQueries;
import dev.drover.server.store.StepRunQueries;
import dev.drover.server.store.StoreTx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The concurrency gate: runs (workflow-level groups) and steps (step-level groups) arrive here before
 * their work is queued; beyond a key's max_running they wait in drover_gate_member, holding no worker
 * slot, and go in FIFO order per key as holders finish. Every decision is taken in the transaction
 * that changes the counts, with the keys' rows locked (in key order), so several replicas on one
 * database never exceed a limit.
 *
 * <p>Fairness comes from the limit itself: a key never has more than max_running items in the worker
 * queue, so a key with 100,000 waiting runs and one with 10 alternate there. With round_robin a member
 * let in later goes to the back of the worker queue (keys take turns); with queue it keeps its arrival
 * time (oldest first across keys).
 */
final class Gate {
    private final WorkflowCatalog catalog;
    private final GateQueries gates = new GateQueries();
    private final RunQueries runs = new RunQueries();
    private final StepRunQueries steps = new StepRunQueries();
    private RunProgress progress;
    /** Set while arrivals are decided: releases caused by cancel_in_progress must not let others in meanwhile. */
    private final ThreadLocal<Boolean> arriving = ThreadLocal.withInitial(() -> false);

    Gate(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    void progress(RunProgress p) {
        this.progress = p;
    }

    /** A run (step "") or step arriving at its groups; {@code rank} 0 = now. */
    record Arrival(String tenantId, UUID runId, String step, List<Group> groups) {}

    // ---- keys ---------------------------------------------------------------------------------

    static final Set<String> KEY_VARIABLES = Set.of("input");

    /** The run-level groups of a run with this input (empty when the workflow declares none). */
    static List<Group> runGroups(Dag dag, String inputJson) {
        return groups(dag.name(), dag.definition().getConcurrencyList(), inputJson, true);
    }

    /** The step-level groups of a step of a run with this input. */
    static List<Group> stepGroups(Dag dag, StepDefinition s, String inputJson) {
        return groups(dag.name() + "/" + s.getName(), s.getConcurrencyList(), inputJson, false);
    }

    private static List<Group> groups(String owner, List<ConcurrencyGroup> defs, String inputJson, boolean strict) {
        if (defs.isEmpty()) return List.of();
        List<Group> out = new ArrayList<>(defs.size());
        for (int i = 0; i < defs.size(); i++) {
            ConcurrencyGroup g = defs.get(i);
            String key = "";
            if (!g.getKeyExpression().isEmpty()) {
                key = Expressions.compileKey("concurrency.key_expression", g.getKeyExpression(), KEY_VARIABLES)
                        .key(Map.of("input", inputJson));
                if (key == null) {
                    // At trigger time the caller hears about it; later (a step) the shared "" key is used.
                    if (strict) {
                        throw EngineException.invalid("input_json: concurrency key '" + Text.clip(g.getKeyExpression(), 80)
                                + "' of workflow '" + owner + "' yields no string, number or boolean for this input");
                    }
                    key = "";
                }
            }
            if (key.length() > 500) key = key.substring(0, 500);
            out.add(new Group(owner + "|" + i + "|" + key, Math.max(1, g.getMaxRunning()), strategy(g)));
        }
        return out;
    }

    static String strategy(ConcurrencyGroup g) {
        return g.getStrategy().isEmpty() ? GatePolicy.ROUND_ROBIN : g.getStrategy();
    }

    /** Validates the groups of a definition (at registration). */
    static void validate(String field, List<ConcurrencyGroup> defs) {
        for (ConcurrencyGroup g : defs) {
            if (g.getMaxRunning() < 1) throw EngineException.invalid(field + ".max_running: must be at least 1");
            if (!g.getStrategy().isEmpty() && !GatePolicy.STRATEGIES.contains(g.getStrategy())) {
                throw EngineException.invalid(field + ".strategy: '" + Text.clip(g.getStrategy(), 40)
                        + "' is not one of round_robin, queue, cancel_in_progress, cancel_newest");
            }
            if (!g.getKeyExpression().isEmpty()) {
                Expressions.compileKey(field + ".key_expression", g.getKeyExpression(), KEY_VARIABLES);
            }
        }
    }

    // ---- arrivals -----------------------------------------------------------------------------

    /** Decides the arrivals in order (one tenant); applies counts, members and replacements; returns one outcome each. */
    List<Outcome> arrive(StoreTx tx, List<Arrival> arrivals, Effects fx) {
        if (arrivals.isEmpty()) return List.of();
        String tenant = arrivals.get(0).tenantId();
        Set<String> keys = new TreeSet<>();
        for (Arrival a : arrivals) for (Group g : a.groups()) keys.add(g.gkey());
        String[] keyArray = keys.toArray(String[]::new);
        Map<String, Integer> running = new HashMap<>(gates.lockKeys(tx, tenant, keyArray));
        Set<String> waiting = new HashSet<>(gates.keysWithWaiting(tx, tenant, keyArray));
        List<Outcome> out = new ArrayList<>(arrivals.size());
        List<Member> members = new ArrayList<>();
        Map<String, Integer> added = new LinkedHashMap<>();
        for (Arrival a : arrivals) {
            Decision d = GatePolicy.arrive(a.groups(), running, waiting);
            out.add(d.outcome());
            if (d.outcome() == Outcome.CANCEL) continue;
            if (d.outcome() == Outcome.WAIT) {
                for (Group g : a.groups()) {
                    members.add(new Member(a.runId(), a.step(), g.gkey(), "waiting", g.max(), g.strategy(), 0, tenant));
                    waiting.add(g.gkey());
                }
                continue;
            }
            for (var r : d.replace().entrySet()) {
                // The newest run of the key wins: the oldest holders are cancelled to make room.
                List<Member> victims = gates.oldestRunning(tx, tenant, r.getKey(), r.getValue());
                // Holders admitted earlier in this same batch are not in the table yet: cancel those first.
                int fromBatch = Math.max(0, r.getValue() - victims.size());
                for (Member m : pendingHolders(members, r.getKey(), fromBatch)) {
                    members.remove(m);
                    added.merge(m.gkey(), -1, Integer::sum);
                    running.merge(m.gkey(), -1, Integer::sum);
                    cancelReplaced(tx, m.runId(), a.runId(), r.getKey(), fx);
                }
                for (Member v : victims) {
                    running.merge(r.getKey(), -1, Integer::sum);
                    cancelReplaced(tx, v.runId(), a.runId(), r.getKey(), fx);
                }
            }
            for (Group g : a.groups()) {
                members.add(new Member(a.runId(), a.step(), g.gkey(), "running", g.max(), g.strategy(), 0, tenant));
                running.merge(g.gkey(), 1, Integer::sum);
                added.merge(g.gkey(), 1, Integer::sum);
            }
        }
        gates.insertMembers(tx, tenant, members);
        added.values().removeIf(v -> v == 0);
        gates.addRunning(tx, tenant, added);
        return out;
    }

    private static List<Member> pendingHolders(List<Member> members, String gkey, int n) {
        List<Member> out = new ArrayList<>();
        for (Member m : members) {
            if (out.size() >= n) break;
            if (m.gkey().equals(gkey) && m.state().equals("running")) out.add(m);
        }
        return out;
    }

    private void cancelReplaced(StoreTx tx, UUID victim, UUID newcomer, String gkey, Effects fx) {
        arriving.set(true);
        try {
            progress.endRun(tx, victim, "cancelled", "cancelled by newer run " + newcomer + " of concurrency key "
                    + Text.clip(gkey, 200) + " (cancel_in_progress)", fx);
        } finally {
            arriving.set(false);
        }
    }

    // ---- releases -----------------------------------------------------------------------------

    /** The runs finished: everything they held or waited for is released, and waiting members go in. */
    void runsFinished(StoreTx tx, UUID[] runIds, Effects fx) {
        release(tx, gates.deleteMembers(tx, runIds, null), fx);
    }

    /** The step finished: what it held is released, and waiting members go in. */
    void stepFinished(StoreTx tx, UUID runId, String step, Effects fx) {
        release(tx, gates.deleteMembers(tx, new UUID[] {runId}, step), fx);
    }

    private void release(StoreTx tx, List<Member> deleted, Effects fx) {
        if (deleted.isEmpty()) return;
        Map<String, Map<String, Integer>> freed = new LinkedHashMap<>(); // tenant -> gkey -> holders gone
        for (Member m : deleted) {
            freed.computeIfAbsent(m.tenantId(), t -> new LinkedHashMap<>()).merge(m.gkey(), m.state().equals("running") ? -1 : 0, Integer::sum);
        }
        for (var e : freed.entrySet()) {
            String tenant = e.getKey();
            gates.lockKeys(tx, tenant, e.getValue().keySet().toArray(String[]::new));
            Map<String, Integer> deltas = new LinkedHashMap<>(e.getValue());
            deltas.values().removeIf(v -> v == 0);
            gates.addRunning(tx, tenant, deltas);
            if (!arriving.get()) admitNext(tx, tenant, new TreeSet<>(e.getValue().keySet()), fx);
        }
    }

    /**
     * Lets the oldest waiting members of the keys in while every key they need has room. Members of a
     * single key (the common case) are let in as a batch; stacked ones are checked key by key.
     */
    private void admitNext(StoreTx tx, String tenant, Set<String> keys, Effects fx) {
        List<Member> admitted = new ArrayList<>();
        for (String key : keys) {
            while (true) {
                int held = gates.lockKeys(tx, tenant, new String[] {key}).getOrDefault(key, 0);
                List<GateQueries.Candidate> candidates = gates.candidates(tx, tenant, key, 200);
                if (candidates.isEmpty()) break;
                int room = candidates.get(0).member().maxRunning() - held;
                if (room <= 0) break;
                List<Member> simple = new ArrayList<>();
                int let = 0;
                for (GateQueries.Candidate c : candidates) {
                    if (let >= room) break;
                    Member m = c.member();
                    if (c.keys() == 1) {
                        simple.add(m);
                        let++;
                        continue;
                    }
                    List<Member> all = gates.membersOf(tx, m.runId(), m.stepName());
                    List<Group> groups = all.stream().map(x -> new Group(x.gkey(), x.maxRunning(), x.strategy())).toList();
                    Map<String, Integer> now = new HashMap<>(
                            gates.lockKeys(tx, tenant, groups.stream().map(Group::gkey).toArray(String[]::new)));
                    if (!simple.isEmpty()) now.merge(key, simple.size(), Integer::sum); // let in above, not written yet
                    if (!GatePolicy.canAdmit(groups, now)) continue; // held up by another of its keys
                    gates.markRunning(tx, m.runId(), m.stepName());
                    Map<String, Integer> plus = new LinkedHashMap<>();
                    for (Group g : groups) plus.put(g.gkey(), 1);
                    gates.addRunning(tx, tenant, plus);
                    admitted.add(m);
                    let++;
                }
                if (!simple.isEmpty()) {
                    gates.markRunning(tx, simple);
                    gates.addRunning(tx, tenant, Map.of(key, simple.size()));
                    admitted.addAll(simple);
                }
                if (let == 0 || let < room) break;
            }
        }
        start(tx, admitted, fx);
    }

    /** Members let in: a run's ready steps (run-level) or the step itself (step-level) go to the queue. */
    private void start(StoreTx tx, List<Member> admitted, Effects fx) {
        if (admitted.isEmpty()) return;
        Map<UUID, RunRow> byId = new HashMap<>();
        for (RunRow r : runs.byIds(tx, admitted.stream().map(Member::runId).distinct().toArray(UUID[]::new))) byId.put(r.id(), r);
        List<UUID> runLevel = new ArrayList<>();
        for (Member m : admitted) if (m.stepName().isEmpty()) runLevel.add(m.runId());
        Map<UUID, List<ReadyStep>> queued = new HashMap<>();
        if (!runLevel.isEmpty()) {
            for (ReadyStep s : steps.queuedWithoutTask(tx, runLevel.toArray(UUID[]::new))) {
                queued.computeIfAbsent(s.runId(), k -> new ArrayList<>()).add(s);
            }
        }
        List<RunProgress.Ready> ready = new ArrayList<>();
        List<RunProgress.Ready> enqueue = new ArrayList<>();
        for (Member m : admitted) {
            RunRow run = byId.get(m.runId());
            if (run == null || run.finishedAt() != null) continue;
            Dag dag = catalog.resolve(run.tenantId(), run.workflowName(), run.workflowVersion());
            long rankAt = GatePolicy.QUEUE.equals(m.strategy()) ? m.rank() : 0;
            if (m.stepName().isEmpty()) {
                for (ReadyStep s : queued.getOrDefault(m.runId(), List.of())) {
                    ready.add(new RunProgress.Ready(run.tenantId(), m.runId(), dag, s.stepName(), run.priority(), s.attempts(),
                            false, rankAt));
                }
            } else {
                int attempts = steps.forRun(tx, m.runId()).stream().filter(s -> s.stepName().equals(m.stepName()))
                        .mapToInt(s -> s.attempts()).findFirst().orElse(0);
                // Its skip condition and wait were behind it already: straight to the queue.
                enqueue.add(new RunProgress.Ready(run.tenantId(), m.runId(), dag, m.stepName(), run.priority(), attempts,
                        true, rankAt));
            }
        }
        progress.enqueue(tx, enqueue, fx);
        progress.ready(tx, ready, fx);
    }
}
