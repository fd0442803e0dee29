package dev.drover.server.engine;

import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated workflow definition with the graph questions the engine asks on the hot path
 * (children of a step, roots, leaves) answered once.
 */
public final class Dag {
    private final WorkflowDefinition definition;
    private final Map<String, StepDefinition> steps = new LinkedHashMap<>();
    private final Map<String, List<String>> children = new HashMap<>();
    private final List<String> roots = new ArrayList<>();
    private final List<String> leaves = new ArrayList<>();

    private Dag(WorkflowDefinition definition) {
        this.definition = definition;
    }

    /** Validates and indexes; every problem is reported with the field that holds it. */
    public static Dag of(WorkflowDefinition def) {
        if (def.getName().isBlank()) throw EngineException.invalid("workflow.name: must not be empty");
        Text.check("workflow.name", def.getName());
        Text.check("workflow.version", def.getVersion());
        if (def.getVersion().length() > 200) throw EngineException.invalid("workflow.version: at most 200 characters");
        if (def.getName().length() > 200) throw EngineException.invalid("workflow.name: at most 200 characters");
        if (def.getVersion().isBlank()) throw EngineException.invalid("workflow.version: must not be empty (workflow '" + def.getName() + "')");
        if (def.getStepsCount() == 0) throw EngineException.invalid("workflow.steps: workflow '" + def.getName() + "' has no steps");
        Dag dag = new Dag(def);
        for (StepDefinition s : def.getStepsList()) {
            if (s.getName().isBlank()) throw EngineException.invalid("workflow.steps.name: empty step name in '" + def.getName() + "'");
            Text.check("workflow.steps.name", s.getName());
            if (s.getName().length() > 200) throw EngineException.invalid("workflow.steps.name: at most 200 characters");
            double mult = s.getRetry().getBackoffMultiplier();
            if (Double.isNaN(mult) || Double.isInfinite(mult) || mult < 0 || s.getRetry().getInitialBackoffMs() < 0
                    || s.getRetry().getMaxBackoffMs() < 0) {
                throw EngineException.invalid("workflow.steps.retry: backoffs must be finite and not negative (step '"
                        + Text.clip(s.getName(), 80) + "')");
            }
            if (s.getName().contains("/")) throw EngineException.invalid("workflow.steps.name: '" + s.getName() + "' must not contain '/'");
            if (dag.steps.put(s.getName(), s) != null) {
                throw EngineException.invalid("workflow.steps.name: duplicate step '" + s.getName() + "' in '" + def.getName() + "'");
            }
            if (s.getRetry().getMaxAttempts() < 0 || s.getExecutionTimeoutMs() < 0 || s.getScheduleToStartTimeoutMs() < 0
                    || s.getSlotCost() < 0) {
                throw EngineException.invalid("workflow.steps: negative retry/timeout/slot setting on step '" + s.getName() + "'");
            }
        }
        for (StepDefinition s : def.getStepsList()) {
            dag.children.putIfAbsent(s.getName(), new ArrayList<>());
            if (s.getParentsCount() == 0) dag.roots.add(s.getName());
            for (String p : s.getParentsList()) {
                if (!dag.steps.containsKey(p)) {
                    throw EngineException.invalid("workflow.steps.parents: step '" + s.getName() + "' names unknown parent '" + p + "'");
                }
                dag.children.computeIfAbsent(p, k -> new ArrayList<>()).add(s.getName());
            }
        }
        for (String name : dag.steps.keySet()) if (dag.children.get(name).isEmpty()) dag.leaves.add(name);
        dag.checkAcyclic();
        return dag;
    }

    private void checkAcyclic() {
        Map<String, Integer> indegree = new HashMap<>();
        steps.values().forEach(s -> indegree.put(s.getName(), s.getParentsCount()));
        Deque<String> ready = new ArrayDeque<>(roots);
        int seen = 0;
        while (!ready.isEmpty()) {
            String s = ready.pop();
            seen++;
            for (String c : children.get(s)) if (indegree.merge(c, -1, Integer::sum) == 0) ready.push(c);
        }
        if (seen != steps.size() || roots.isEmpty()) {
            throw EngineException.invalid("workflow.steps.parents: workflow '" + definition.getName() + "' has a cycle");
        }
    }

    public WorkflowDefinition definition() { return definition; }
    public String name() { return definition.getName(); }
    public String version() { return definition.getVersion(); }
    public StepDefinition step(String name) { return steps.get(name); }
    public Iterable<StepDefinition> steps() { return steps.values(); }
    public int size() { return steps.size(); }
    public List<String> roots() { return Collections.unmodifiableList(roots); }
    public List<String> leaves() { return Collections.unmodifiableList(leaves); }
    public List<String> children(String step) { return children.getOrDefault(step, List.of()); }
    public boolean hasStep(String name) { return steps.containsKey(name); }

    public static int maxAttempts(StepDefinition s) { return Math.max(1, s.getRetry().getMaxAttempts()); }
    public static int slotCost(StepDefinition s) { return Math.max(1, s.getSlotCost()); }
}
