package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Boolean expressions over JSON documents, in CEL (the Common Expression Language): event filters
 * ({@code payload.total > 100}), wait-for-event matches ({@code event.orderId == input.orderId}) and
 * step conditions ({@code parents.check.amount < 100}).
 *
 * <p>Every variable is a JSON document typed {@code dyn}, so field access is checked only when the
 * expression runs. JSON integers become CEL ints and other numbers doubles, and ints compare with
 * doubles ({@code payload.total > 100} holds for 150 and for 150.5). A document that lacks a field
 * or holds the wrong type makes the expression false rather than an error: data that does not fit
 * a filter simply does not match it.
 */
public final class Expressions {
    /** Longer expressions are refused: they are written by people, and compiled ones are cached. */
    public static final int MAX_LENGTH = 4096;
    private static final int MAX_CACHED = 10_000;

    private static final CelOptions OPTIONS = CelOptions.current()
            .enableHeterogeneousNumericComparisons(true)
            // Bounds the work of one evaluation: a filter runs inside a push transaction.
            .comprehensionMaxIterations(10_000)
            .maxParseRecursionDepth(64)
            .build();
    private static final CelRuntime RUNTIME =
            CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS).build();
    private static final JsonFactory JSON = new JsonFactory();

    private static final Map<Set<String>, CelCompiler> COMPILERS = new ConcurrentHashMap<>();
    private static final Map<Key, Compiled> CACHE = new ConcurrentHashMap<>();

    private record Key(String expression, Set<String> variables) {}

    private Expressions() {}

    /** A compiled expression; thread-safe. */
    public interface Compiled {
        /**
         * Evaluates with each variable bound to a JSON text (parsed to CEL maps/lists/values); false
         * on a runtime error (missing field, type mismatch) or a missing or unparsable variable —
         * never throws for data problems.
         */
        default boolean test(Map<String, String> jsonVariables) {
            return test(bind(jsonVariables));
        }

        /** As {@link #test(Map)} with documents parsed once, for evaluating many expressions on one document. */
        boolean test(Bindings bindings);

        String expression();
    }

    /** Variables parsed from JSON, reusable across expressions. */
    public static final class Bindings {
        private final Map<String, Object> values;

        private Bindings(Map<String, Object> values) {
            this.values = values;
        }
    }

    /** Parses each JSON text once; a text that is not JSON leaves its variable unbound (expressions using it are false). */
    public static Bindings bind(Map<String, String> jsonVariables) {
        Map<String, Object> values = new HashMap<>();
        jsonVariables.forEach((name, json) -> {
            if (json == null) return;
            Object v = parse(json);
            if (v != NOT_JSON) values.put(name, v);
        });
        return new Bindings(values);
    }

    /**
     * Compiles once (cached by text and variables). Throws INVALID_ARGUMENT ("field: problem") when the
     * expression does not parse, uses an undeclared variable or function, or cannot yield a boolean.
     */
    public static Compiled compile(String field, String expression, Set<String> variables) {
        if (expression == null || expression.isBlank()) throw EngineException.invalid(field + ": must not be empty");
        if (expression.length() > MAX_LENGTH) {
            throw EngineException.invalid(field + ": longer than " + MAX_LENGTH + " characters");
        }
        Text.check(field, expression);
        Key key = new Key(expression, Set.copyOf(variables));
        Compiled cached = CACHE.get(key);
        if (cached != null) return cached;
        Compiled compiled = doCompile(field, expression, key.variables());
        // Expressions come from workflow definitions, so few distinct ones exist; the bound only guards
        // against a client generating endless variants.
        if (CACHE.size() >= MAX_CACHED) CACHE.clear();
        CACHE.put(key, compiled);
        return compiled;
    }

    private static Compiled doCompile(String field, String expression, Set<String> variables) {
        CelCompiler compiler = COMPILERS.computeIfAbsent(variables, vars -> {
            CelCompilerBuilder b = CelCompilerFactory.standardCelCompilerBuilder()
                    .setOptions(OPTIONS)
                    .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                    .setResultType(SimpleType.BOOL);
            for (String v : new TreeSet<>(vars)) b.addVar(v, SimpleType.DYN);
            return b.build();
        });
        CelRuntime.Program program;
        try {
            CelAbstractSyntaxTree ast = compiler.compile(expression).getAst();
            program = RUNTIME.createProgram(ast);
        } catch (CelValidationException e) {
            throw EngineException.invalid(field + ": " + Text.clip(describe(e, variables), 500));
        } catch (CelEvaluationException | RuntimeException e) {
            throw EngineException.invalid(field + ": " + Text.clip(String.valueOf(e.getMessage()), 500));
        }
        return new Compiled() {
            @Override
            public boolean test(Bindings bindings) {
                try {
                    return Boolean.TRUE.equals(program.eval(bindings.values));
                } catch (CelEvaluationException | RuntimeException e) {
                    return false;
                }
            }

            @Override
            public String expression() {
                return expression;
            }

            @Override
            public String toString() {
                return expression;
            }
        };
    }

    /** An expression that computes a key (concurrency group, rate-limit bucket) from a document. */
    public interface KeyExpression {
        /**
         * The key as text: strings as they are, numbers and booleans in their JSON form; null when the
         * expression fails on this document or yields something else (a map, a list, null).
         */
        String key(Map<String, String> jsonVariables);

        String expression();
    }

    private static final Map<Key, KeyExpression> KEY_CACHE = new ConcurrentHashMap<>();
    private static final Map<Set<String>, CelCompiler> KEY_COMPILERS = new ConcurrentHashMap<>();

    /** Compiles a key expression once (cached); INVALID_ARGUMENT ("field: problem") when it does not compile. */
    public static KeyExpression compileKey(String field, String expression, Set<String> variables) {
        if (expression == null || expression.isBlank()) throw EngineException.invalid(field + ": must not be empty");
        if (expression.length() > MAX_LENGTH) {
            throw EngineException.invalid(field + ": longer than " + MAX_LENGTH + " characters");
        }
        Text.check(field, expression);
        Key key = new Key(expression, Set.copyOf(variables));
        KeyExpression cached = KEY_CACHE.get(key);
        if (cached != null) return cached;
        CelCompiler compiler = KEY_COMPILERS.computeIfAbsent(key.variables(), vars -> {
            CelCompilerBuilder b = CelCompilerFactory.standardCelCompilerBuilder()
                    .setOptions(OPTIONS)
                    .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                    .setResultType(SimpleType.DYN);
            for (String v : new TreeSet<>(vars)) b.addVar(v, SimpleType.DYN);
            return b.build();
        });
        CelRuntime.Program program;
        try {
            program = RUNTIME.createProgram(compiler.compile(expression).getAst());
        } catch (CelValidationException e) {
            throw EngineException.invalid(field + ": " + Text.clip(describe(e, key.variables()), 500));
        } catch (CelEvaluationException | RuntimeException e) {
            throw EngineException.invalid(field + ": " + Text.clip(String.valueOf(e.getMessage()), 500));
        }
        KeyExpression compiled = new KeyExpression() {
            @Override
            public String key(Map<String, String> jsonVariables) {
                Object v;
                try {
                    v = program.eval(bind(jsonVariables).values);
                } catch (CelEvaluationException | RuntimeException e) {
                    return null;
                }
                if (v instanceof String str) return str;
                if (v instanceof Long || v instanceof Boolean || v instanceof com.google.common.primitives.UnsignedLong) return v.toString();
                if (v instanceof Double d) {
                    return d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString();
                }
                return null;
            }

            @Override
            public String expression() {
                return expression;
            }
        };
        if (KEY_CACHE.size() >= MAX_CACHED) KEY_CACHE.clear();
        KEY_CACHE.put(key, compiled);
        return compiled;
    }

    private static String describe(CelValidationException e, Set<String> variables) {
        // CEL's message repeats the source with a caret; the first error line is what a person needs,
        // plus the variables they may use.
        String first = e.getErrors().isEmpty() ? e.getMessage() : e.getErrors().get(0).getMessage();
        return first + " (variables: " + String.join(", ", new TreeSet<>(variables)) + ")";
    }

    private static final Object NOT_JSON = new Object();

    private static Object parse(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t == null) return NOT_JSON;
            Object v = value(p, t);
            return p.nextToken() == null ? v : NOT_JSON;
        } catch (IOException | RuntimeException e) {
            return NOT_JSON;
        }
    }

    private static Object value(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                return Collections.unmodifiableMap(m);
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) l.add(value(p, e));
                return Collections.unmodifiableList(l);
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? (Object) p.getDoubleValue() : p.getLongValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return dev.cel.common.values.NullValue.NULL_VALUE;
            }
            default -> throw new IOException("unexpected " + t);
        }
    }
}
