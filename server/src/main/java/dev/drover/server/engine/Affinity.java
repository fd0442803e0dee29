package dev.drover.server.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.proto.v1.LabelAffinity;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.Rows.TaskAffinity;
import java.util.HashMap;
import java.util.Map;

/**
 * Worker affinity of steps and sticky runs: validation of the definitions, and what a task row carries
 * so that the claim can decide who may take it (the decision itself is {@code drover_may_claim} in
 * V9__affinity.sql, evaluated by every replica's claim against the same rows).
 *
 * <ul>
 *   <li>Required labels filter: a worker lacking one never gets the step; the step waits (its
 *       schedule-to-start timeout applies) until such a worker is available.
 *   <li>Preferred labels rank: the best-scoring available worker may claim at once; a worker scoring
 *       less may claim once the task waited {@code preference window × (best − mine) / best}, so a busy
 *       preferred worker delays work by at most the window.
 *   <li>Sticky runs: the worker that claims the run's first step is remembered on the run; hard: the
 *       later steps are claimable by that worker only; soft: others may take them after the soft window,
 *       or at once when that worker is not available (paused, draining or silent).
 * </ul>
 * Steps with affinity and steps of sticky workflows never take the direct-dispatch shortcut: they always
 * go through the claim, where these rules live.
 */
final class Affinity {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_LABELS = 32;

    private Affinity() {}

    /** Checks the affinity of every step and the workflow's sticky mode; called by {@link Dag#of}. */
    static void validate(WorkflowDefinition def) {
        String sticky = def.getSticky();
        if (!sticky.isEmpty() && !sticky.equals("soft") && !sticky.equals("hard")) {
            throw EngineException.invalid("workflow.sticky: must be \"\", \"soft\" or \"hard\", got '" + Text.clip(sticky, 40) + "'");
        }
        for (StepDefinition s : def.getStepsList()) {
            String where = " (step '" + Text.clip(s.getName(), 80) + "')";
            if (s.getAffinityCount() > MAX_LABELS) {
                throw EngineException.invalid("workflow.steps.affinity: at most " + MAX_LABELS + " entries" + where);
            }
            Map<String, String> required = new HashMap<>();
            for (LabelAffinity a : s.getAffinityList()) {
                Text.check("workflow.steps.affinity.key", a.getKey());
                Text.check("workflow.steps.affinity.value", a.getValue());
                if (a.getKey().isBlank()) throw EngineException.invalid("workflow.steps.affinity.key: must not be empty" + where);
                if (a.getKey().length() > 200 || a.getValue().length() > 200) {
                    throw EngineException.invalid("workflow.steps.affinity: keys and values of at most 200 characters" + where);
                }
                if (a.getRequired()) {
                    String before = required.put(a.getKey(), a.getValue());
                    if (before != null && !before.equals(a.getValue())) {
                        throw EngineException.invalid("workflow.steps.affinity: label '" + Text.clip(a.getKey(), 40)
                                + "' is required with two values, no worker could run the step" + where);
                    }
                } else if (a.getWeight() < 1 || a.getWeight() > 1_000_000) {
                    throw EngineException.invalid("workflow.steps.affinity.weight: a preferred label needs a weight"
                            + " between 1 and 1000000, got " + a.getWeight() + where);
                }
            }
        }
    }

    /** True when who may run the step is restricted or steered (so it must go through the claim). */
    static boolean constrains(Dag dag, StepDefinition s) {
        return s.getAffinityCount() > 0 || !dag.definition().getSticky().isEmpty();
    }

    /** What the step's task rows carry; null for a step without affinity in a non-sticky workflow (the usual case). */
    static TaskAffinity forStep(Dag dag, StepDefinition s) {
        if (!constrains(dag, s)) return null;
        ObjectNode required = JSON.createObjectNode();
        ArrayNode preferred = JSON.createArrayNode();
        for (LabelAffinity a : s.getAffinityList()) {
            if (a.getRequired()) {
                required.put(a.getKey(), a.getValue());
            } else {
                preferred.addObject().put("key", a.getKey()).put("value", a.getValue()).put("weight", a.getWeight());
            }
        }
        String sticky = dag.definition().getSticky();
        return new TaskAffinity(required.isEmpty() ? null : required.toString(), preferred.isEmpty() ? null : preferred.toString(),
                sticky.isEmpty() ? null : sticky);
    }
}
