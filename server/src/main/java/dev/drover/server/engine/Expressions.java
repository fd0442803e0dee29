package dev.drover.server.engine;

import java.util.Map;
import java.util.Set;

/** TEMPORARY placeholder until the CEL facade lands from the events branch. */
public final class Expressions {
    private Expressions() {}

    public static Compiled compile(String field, String expression, Set<String> variables) {
        return vars -> {
            throw new UnsupportedOperationException("expressions not available yet");
        };
    }

    public interface Compiled {
        boolean test(Map<String, String> jsonVariables);
    }
}
