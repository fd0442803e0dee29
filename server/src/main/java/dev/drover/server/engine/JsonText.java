package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Checks that text is one JSON value that PostgreSQL's jsonb will also accept, without building a
 * tree. jsonb is stricter than JSON: no NUL character (not even escaped as \u0000), no unpaired
 * surrogates, numbers within numeric's range. A value that passed JSON parsing but failed in the
 * database would fail its whole transaction — and every other trigger group-committed with it.
 */
public final class JsonText {
    private static final JsonFactory FACTORY = new JsonFactory();
    // PostgreSQL numeric: up to 131072 digits before the decimal point, 16383 after.
    private static final int MAX_INT_DIGITS = 131_072;
    private static final int MAX_FRACTION_DIGITS = 16_383;

    private JsonText() {}

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        try {
            return MAPPER.writeValueAsString(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean isValid(String text) {
        return problem(text) == null;
    }

    /** Null when valid, else what is wrong. */
    public static String problem(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) return "empty";
            int depth = 0;
            JsonToken t = first;
            while (true) {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> depth++;
                    case END_OBJECT, END_ARRAY -> depth--;
                    case FIELD_NAME, VALUE_STRING -> {
                        String bad = Text.problem(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                        if (bad != null) return (t == JsonToken.FIELD_NAME ? "a key " : "a string ") + bad;
                    }
                    case VALUE_NUMBER_INT -> {
                        if (p.getTextLength() > MAX_INT_DIGITS) return "a number too large for the database";
                    }
                    case VALUE_NUMBER_FLOAT -> {
                        BigDecimal d = p.getDecimalValue();
                        if (d.precision() - d.scale() > MAX_INT_DIGITS || d.scale() > MAX_FRACTION_DIGITS) {
                            return "a number outside the database's range: " + Text.clip(p.getText(), 40);
                        }
                    }
                    default -> { }
                }
                if (depth == 0) break;
                t = p.nextToken();
                if (t == null) return "unexpected end of input";
            }
            if (p.nextToken() != null) return "more than one JSON value";
            return null;
        } catch (IOException | NumberFormatException e) {
            return e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        }
    }
}
