package dev.drover.server.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Invariants of the pure scheduling decisions: retry delays and DAG validation. */
class SchedulingProperties {

    @Property
    void retry_delay_stays_within_half_ceiling_and_ceiling(
            @ForAll @LongRange(min = 0, max = 600_000) long initial, @ForAll @IntRange(min = 0, max = 50) int mult10,
            @ForAll @LongRange(min = 0, max = 3_600_000) long max, @ForAll @IntRange(min = 1, max = 100) int attempt) {
        RetryPolicy p = RetryPolicy.newBuilder().setInitialBackoffMs(initial).setBackoffMultiplier(mult10 / 10.0)
                .setMaxBackoffMs(max).build();
        long ceiling = Backoff.ceilingMs(p, attempt);
        long delay = Backoff.delayMs(p, attempt);
        long effectiveInitial = initial > 0 ? initial : 1000;
        long effectiveMax = Math.max(max > 0 ? max : 60_000, effectiveInitial);
        assertThat(ceiling).isBetween(0L, effectiveMax);
        assertThat(delay).isBetween(ceiling / 2, ceiling);
    }

    @Property
    void retry_ceiling_never_shrinks_as_attempts_grow(@ForAll @IntRange(min = 1, max = 60) int attempt) {
        RetryPolicy p = RetryPolicy.newBuilder().setInitialBackoffMs(100).setBackoffMultiplier(2).setMaxBackoffMs(30_000).build();
        assertThat(Backoff.ceilingMs(p, attempt + 1)).isGreaterThanOrEqualTo(Backoff.ceilingMs(p, attempt));
    }

    /** Random DAGs: step i may only name parents among steps 0..i-1, so the graph is acyclic by construction. */
    @Provide
    Arbitrary<WorkflowDefinition> dags() {
        return Arbitraries.integers().between(1, 25).flatMap(n -> Arbitraries.longs().map(seed -> {
            java.util.Random r = new java.util.Random(seed);
            WorkflowDefinition.Builder wf = WorkflowDefinition.newBuilder().setName("wf").setVersion("1");
            for (int i = 0; i < n; i++) {
                StepDefinition.Builder s = StepDefinition.newBuilder().setName("s" + i);
                Set<Integer> parents = new HashSet<>();
                for (int k = 0; k < i; k++) if (r.nextInt(4) == 0) parents.add(k);
                parents.forEach(k -> s.addParents("s" + k));
                wf.addSteps(s);
            }
            return wf.build();
        }));
    }

    @Property
    void every_acyclic_dag_is_accepted_and_roots_and_leaves_are_consistent(@ForAll("dags") WorkflowDefinition def) {
        Dag dag = Dag.of(def);
        assertThat(dag.size()).isEqualTo(def.getStepsCount());
        for (StepDefinition s : def.getStepsList()) {
            assertThat(dag.roots().contains(s.getName())).isEqualTo(s.getParentsCount() == 0);
            assertThat(dag.leaves().contains(s.getName())).isEqualTo(dag.children(s.getName()).isEmpty());
            for (String p : s.getParentsList()) assertThat(dag.children(p)).contains(s.getName());
        }
        // the pending-parents counters the engine stores reach zero for every step in some order
        assertThat(topologicalOrder(dag)).hasSize(dag.size());
    }

    @Property
    void adding_a_back_edge_makes_any_dag_with_a_path_rejected(@ForAll("dags") WorkflowDefinition def,
                                                                @ForAll @IntRange(min = 0, max = 24) int pick) {
        // Find a step with a parent and make that parent also depend on the step: a cycle.
        List<StepDefinition> withParents = def.getStepsList().stream().filter(s -> s.getParentsCount() > 0).toList();
        if (withParents.isEmpty()) return;
        StepDefinition child = withParents.get(pick % withParents.size());
        String parent = child.getParents(0);
        WorkflowDefinition.Builder b = def.toBuilder();
        for (int i = 0; i < b.getStepsCount(); i++) {
            if (b.getSteps(i).getName().equals(parent)) b.setSteps(i, b.getSteps(i).toBuilder().addParents(child.getName()));
        }
        assertThatThrownBy(() -> Dag.of(b.build())).isInstanceOf(EngineException.class).hasMessageContaining("cycle");
    }

    private static List<String> topologicalOrder(Dag dag) {
        java.util.Map<String, Integer> pending = new java.util.HashMap<>();
        for (StepDefinition s : dag.steps()) pending.put(s.getName(), s.getParentsCount());
        List<String> order = new ArrayList<>();
        java.util.ArrayDeque<String> ready = new java.util.ArrayDeque<>(dag.roots());
        while (!ready.isEmpty()) {
            String s = ready.poll();
            order.add(s);
            for (String c : dag.children(s)) if (pending.merge(c, -1, Integer::sum) == 0) ready.add(c);
        }
        return order;
    }
}
