package dev.drover.server.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExpressionsTest {
    private static final Set<String> PAYLOAD = Set.of("payload", "metadata");

    private static boolean eval(String expr, String payload) {
        return Expressions.compile("filter", expr, PAYLOAD).test(Map.of("payload", payload, "metadata", "{}"));
    }

    @Test
    void numbers_compare_across_int_and_double() {
        assertThat(eval("payload.total > 100", "{\"total\":150}")).isTrue();
        assertThat(eval("payload.total > 100", "{\"total\":150.5}")).isTrue();
        assertThat(eval("payload.total > 100", "{\"total\":99.9}")).isFalse();
        assertThat(eval("payload.total > 100.0", "{\"total\":101}")).isTrue();
        assertThat(eval("payload.total == 100", "{\"total\":100.0}")).isTrue();
        assertThat(eval("payload.n + 1 == 3", "{\"n\":2}")).isTrue();
        assertThat(eval("payload.big > 1", "{\"big\":123456789012345678901234567890}")).isTrue();
    }

    @Test
    void strings_lists_booleans_nulls_and_nesting() {
        String doc = """
                {"customer":{"tier":"gold","tags":["a","b"]},"paid":true,"note":null,"items":[{"qty":2},{"qty":5}]}""";
        assertThat(eval("payload.customer.tier == 'gold'", doc)).isTrue();
        assertThat(eval("'b' in payload.customer.tags", doc)).isTrue();
        assertThat(eval("payload.paid", doc)).isTrue();
        assertThat(eval("payload.note == null", doc)).isTrue();
        assertThat(eval("payload.items.exists(i, i.qty > 4)", doc)).isTrue();
        assertThat(eval("payload.items.all(i, i.qty > 4)", doc)).isFalse();
        assertThat(eval("size(payload.items) == 2", doc)).isTrue();
        assertThat(eval("has(payload.customer.tier) && !has(payload.customer.vip)", doc)).isTrue();
        assertThat(eval("payload.customer.tier.startsWith('go')", doc)).isTrue();
    }

    @Test
    void data_problems_are_false_never_errors() {
        assertThat(eval("payload.total > 100", "{}")).isFalse();
        assertThat(eval("payload.total > 100", "{\"total\":\"lots\"}")).isFalse();
        assertThat(eval("payload.total > 100", "[1,2]")).isFalse();
        assertThat(eval("payload.total > 100", "not json")).isFalse();
        assertThat(eval("payload.a.b.c == 1", "{\"a\":1}")).isFalse();
        assertThat(eval("payload.tier", "{\"tier\":\"gold\"}")).isFalse(); // not a boolean
        assertThat(Expressions.compile("f", "payload.x == 1", PAYLOAD).test(Map.of())).isFalse(); // unbound
        assertThat(eval("1 / payload.zero == 1", "{\"zero\":0}")).isFalse();
    }

    @Test
    void several_documents_can_be_related() {
        var c = Expressions.compile("wait.match", "event.orderId == input.orderId && parents.check.amount < 100",
                Set.of("event", "input", "parents"));
        assertThat(c.test(Map.of("event", "{\"orderId\":\"o-1\"}", "input", "{\"orderId\":\"o-1\"}",
                "parents", "{\"check\":{\"amount\":50}}"))).isTrue();
        assertThat(c.test(Map.of("event", "{\"orderId\":\"o-2\"}", "input", "{\"orderId\":\"o-1\"}",
                "parents", "{\"check\":{\"amount\":50}}"))).isFalse();
        var bindings = Expressions.bind(Map.of("event", "{\"orderId\":\"o-1\"}", "input", "{\"orderId\":\"o-1\"}",
                "parents", "{\"check\":{\"amount\":500}}"));
        assertThat(c.test(bindings)).isFalse();
    }

    @Test
    void bad_expressions_are_invalid_arguments_naming_the_field() {
        assertThatThrownBy(() -> Expressions.compile("on_event[0].filter", "payload.total >", PAYLOAD))
                .isInstanceOf(EngineException.class)
                .hasMessageStartingWith("on_event[0].filter: ")
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(EngineException.Kind.INVALID_ARGUMENT));
        assertThatThrownBy(() -> Expressions.compile("f", "order.total > 1", PAYLOAD))
                .hasMessageStartingWith("f: ").hasMessageContaining("order");
        assertThatThrownBy(() -> Expressions.compile("f", "1 + 2", PAYLOAD)).hasMessageStartingWith("f: ");
        assertThatThrownBy(() -> Expressions.compile("f", "nosuch(payload)", PAYLOAD)).hasMessageStartingWith("f: ");
        assertThatThrownBy(() -> Expressions.compile("f", " ", PAYLOAD)).hasMessage("f: must not be empty");
        assertThatThrownBy(() -> Expressions.compile("f", "x".repeat(5000), PAYLOAD)).hasMessageStartingWith("f: longer");
        assertThatThrownBy(() -> Expressions.compile("f", "(".repeat(500) + "true" + ")".repeat(500), PAYLOAD))
                .hasMessageStartingWith("f: ");
    }

    @Test
    void compiled_expressions_are_cached() {
        assertThat(Expressions.compile("a", "payload.x == 1", PAYLOAD))
                .isSameAs(Expressions.compile("b", "payload.x == 1", Set.of("metadata", "payload")));
    }

    @Test
    void runaway_comprehensions_are_bounded() {
        StringBuilder big = new StringBuilder("{\"xs\":[");
        for (int i = 0; i < 20_000; i++) big.append(i == 0 ? "" : ",").append(i);
        big.append("]}");
        // More iterations than allowed: false rather than a long evaluation inside a transaction.
        assertThat(eval("payload.xs.all(x, x >= 0)", big.toString())).isFalse();
        assertThat(eval("payload.xs.exists(x, x == 5)", big.toString())).isTrue();
    }
}
