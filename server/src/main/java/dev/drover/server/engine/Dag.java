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
    /** What a skip condition can read: the run's input and the parents' outputs by name. */
    static final java.util.Set<String> STEP_VARIABLES = java.util.Set.of("input", "parents");
    /** What a wait's match condition can read: the event's payload besides the step's variables. */
    static final java.util.Set<String> WAIT_VARIABLES = java.util.Set.of("event", "input", "parents");
    private final WorkflowDefinition definition;
    private final Map<String, StepDefinition> steps = new LinkedHashMap<>();
    private final Map<String, List<String>> children = new HashMap<>();
    private final List<String> roots = new ArrayList<>();
    private final List<String> leaves = new ArrayList<>();
    private StepDefinition onFailure;

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
        String onFailureName = def.getOnFailureStep();
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
            if (s.getPriority() < 0 || s.getPriority() > 4) {
                throw EngineException.invalid("workflow.steps.priority: must be between 0 and 4 (step '" + Text.clip(s.getName(), 80) + "')");
            }
            checkWait(s);
            Gate.validate("workflow.steps.concurrency", s.getConcurrencyList());
            RateLimits.validate("workflow.steps.rate_limits", s);
            if (!s.getSkipIf().isEmpty()) {
                Expressions.compile("workflow.steps.skip_if", s.getSkipIf(), STEP_VARIABLES);
            }
        }
        Gate.validate("workflow.concurrency", def.getConcurrencyList());
        Affinity.validate(def);
        if (!onFailureName.isEmpty()) {
            StepDefinition f = dag.steps.remove(onFailureName);
            if (f == null) {
                throw EngineException.invalid("workflow.on_failure_step: no step named '" + Text.clip(onFailureName, 80) + "'");
            }
            if (f.getParentsCount() > 0) throw EngineException.invalid("workflow.on_failure_step: step '" + onFailureName + "' must have no parents");
            for (StepDefinition s : def.getStepsList()) {
                if (s.getParentsList().contains(onFailureName)) {
                    throw EngineException.invalid("workflow.on_failure_step: step '" + onFailureName + "' must not be a parent (of '" + s.getName() + "')");
                }
            }
            if (f.hasWait() || !f.getSkipIf().isEmpty()) {
                throw EngineException.invalid("workflow.on_failure_step: step '" + onFailureName + "' cannot wait or be skipped");
            }
            dag.onFailure = f;
        }
        for (StepDefinition s : dag.steps.values()) {
            dag.children.putIfAbsent(s.getName(), new ArrayList<>());
            if (s.getParentsCount() == 0) dag.roots.add(s.getName());
            for (String p : s.getParentsList()) {
                if (!dag.steps.containsKey(p)) {
                    throw EngineException.invalid("workflow.steps.parents: step '" + s.getName() + "' names unknown parent '" + p + "'");
                }
                dag.children.computeIfAbsent(p, k -> new ArrayList<>()).add(s.getName());
            }
        }
        if (dag.steps.isEmpty()) throw EngineException.invalid("workflow.steps: workflow '" + def.getName() + "' has no steps besides its on-failure step");
        for (String name : dag.steps.keySet()) if (dag.children.get(name).isEmpty()) dag.leaves.add(name);
        dag.checkAcyclic();
        return dag;
    }

    private static void checkWait(StepDefinition s) {
        if (!s.hasWait()) return;
        var w = s.getWait();
        String where = " (step '" + Text.clip(s.getName(), 80) + "')";
        if (w.getSleepMs() < 0 || w.getTimeoutMs() < 0) throw EngineException.invalid("workflow.steps.wait: negative duration" + where);
        if (w.getSleepMs() == 0 && w.getEvent().isEmpty()) {
            throw EngineException.invalid("workflow.steps.wait: needs sleep_ms or event" + where);
        }
        Text.check("workflow.steps.wait.event", w.getEvent());
        if (w.getEvent().length() > 200) throw EngineException.invalid("workflow.steps.wait.event: at most 200 characters" + where);
        if (w.getEvent().isEmpty() && (!w.getMatch().isEmpty() || w.getTimeoutMs() > 0)) {
            throw EngineException.invalid("workflow.steps.wait: match and timeout_ms need an event" + where);
        }
        if (!w.getOnTimeout().isEmpty() && !w.getOnTimeout().equals("fail") && !w.getOnTimeout().equals("continue")) {
            throw EngineException.invalid("workflow.steps.wait.on_timeout: must be 'fail' or 'continue'" + where);
        }
        if (!w.getMatch().isEmpty()) Expressions.compile("workflow.steps.wait.match", w.getMatch(), WAIT_VARIABLES);
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
    /** Any step of the workflow, the on-failure step included. */
    public StepDefinition step(String name) {
        StepDefinition s = steps.get(name);
        return s != null || onFailure == null || !onFailure.getName().equals(name) ? s : onFailure;
    }
    /** The steps of the DAG (without the on-failure step), parents first. */
    public Iterable<StepDefinition> steps() { return steps.values(); }
    /** Number of steps in the DAG (without the on-failure step). */
    public int size() { return steps.size(); }
    /** True when the workflow or one of its steps declares concurrency groups. */
    public boolean hasConcurrency() {
        if (definition.getConcurrencyCount() > 0) return true;
        for (StepDefinition s : steps.values()) if (s.getConcurrencyCount() > 0) return true;
        return false;
    }

    /** The step that runs when a run fails, or null. */
    public StepDefinition onFailure() { return onFailure; }
    /** True when the step goes straight to the queue once ready (no wait, no skip condition). */
    public static boolean plain(StepDefinition s) { return !s.hasWait() && s.getSkipIf().isEmpty(); }
    public List<String> roots() { return Collections.unmodifiableList(roots); }
    /**
     * True when {@code step} is this workflow's only step and nothing else reacts to its end (no
     * concurrency groups): its success finishes the run with its output, and nothing more.
     */
    public boolean singleStep(String step) {
        return steps.size() == 1 && steps.containsKey(step) && !hasConcurrency();
    }

    /** True when every root goes to the queue as soon as the run exists (no wait, skip condition or gate). */
    public boolean plainRoots() {
        for (String r : roots) {
            StepDefinition s = steps.get(r);
            if (!plain(s) || s.getConcurrencyCount() > 0) return false;
        }
        return true;
    }
    public List<String> leaves() { return Collections.unmodifiableList(leaves); }
    public List<String> children(String step) { return children.getOrDefault(step, List.of()); }
    public boolean hasStep(String name) { return step(name) != null; }

    public static int maxAttempts(StepDefinition s) { return Math.max(1, s.getRetry().getMaxAttempts()); }
    public static int slotCost(StepDefinition s) { return Math.max(1, s.getSlotCost()); }
}
