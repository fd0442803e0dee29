package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Checks that text is one well-formed JSON value without building a tree: the database stores it
 * as jsonb and would reject a malformed value only by failing the whole batch's transaction.
 */
final class JsonText {
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonText() {}

    static boolean isValid(String text) {
        return problem(text) == null;
    }

    /** Null when valid, else the parser's message. */
    static String problem(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) return "empty";
            p.skipChildren();
            if (p.nextToken() != null) return "more than one JSON value";
            return null;
        } catch (IOException e) {
            return e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        }
    }
}
