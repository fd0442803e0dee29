package dev.drover.server.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/** Random well-formed JSON text of every type (no NUL characters: those are tested on their own). */
final class JsonGen {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonGen() {}

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Arbitrary<String> strings() {
        return FuzzSupport.nastyString().filter(s -> !FuzzSupport.hasNul(s) && !hasLoneSurrogate(s)).map(JsonGen::quote);
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return true;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    static Arbitrary<String> scalars() {
        return Arbitraries.oneOf(
                Arbitraries.of("null", "true", "false", "0", "-0", "1.5e3", "-2.25", "1E-7"),
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.doubles().filter(d -> !d.isNaN() && !d.isInfinite()).map(String::valueOf),
                strings());
    }

    static Arbitrary<String> values(int depth) {
        if (depth <= 0) return scalars();
        Arbitrary<String> inner = Arbitraries.lazy(() -> values(depth - 1));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, scalars()),
                net.jqwik.api.Tuple.of(1, inner.list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]")),
                net.jqwik.api.Tuple.of(2, Arbitraries.maps(FuzzSupport.nastyString().filter(s -> !FuzzSupport.hasNul(s) && !hasLoneSurrogate(s)), inner)
                        .ofMaxSize(4).map(m -> {
                            StringBuilder sb = new StringBuilder("{");
                            m.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append(quote(k)).append(':').append(v));
                            return sb.append('}').toString();
                        })));
    }
}
