package dev.drover.server.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EventPatternsTest {
    @Test
    void wildcards_take_one_or_more_segments_after_their_prefix() {
        assertThat(Events.matches("order.paid", "order.paid")).isTrue();
        assertThat(Events.matches("order.paid", "order.paid.late")).isFalse();
        assertThat(Events.matches("order.*", "order.paid")).isTrue();
        assertThat(Events.matches("order.*", "order.paid.late")).isTrue();
        assertThat(Events.matches("order.*", "order")).isFalse();
        assertThat(Events.matches("order.*", "order.")).isFalse();
        assertThat(Events.matches("order.*", "orders.paid")).isFalse();
        assertThat(Events.matches("a.b.*", "a.b.c")).isTrue();
        assertThat(Events.matches("a.b.*", "a.bc")).isFalse();
        assertThat(Events.matches("*", "anything.at.all")).isTrue();
    }

    @Test
    void a_star_stands_alone_or_as_the_whole_last_segment() {
        assertThat(Events.patternProblem("*")).isNull();
        assertThat(Events.patternProblem("order.*")).isNull();
        assertThat(Events.patternProblem("order.paid")).isNull();
        assertThat(Events.patternProblem("order.*.paid")).contains("'*'");
        assertThat(Events.patternProblem("order*")).contains("'*'");
        assertThat(Events.patternProblem("order.pa*")).contains("'*'");
        assertThat(Events.patternProblem(".*")).contains("'*'");
        assertThat(Events.patternProblem("**")).contains("'*'");
        assertThat(Events.patternProblem("")).isEqualTo("must not be empty");
        assertThat(Events.patternProblem("x".repeat(201))).startsWith("at most");
    }
}
