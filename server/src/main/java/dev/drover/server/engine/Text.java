package dev.drover.server.engine;

/**
 * Names, keys and other strings must be storable in PostgreSQL text columns (no NUL character,
 * well-formed UTF-16). Error messages quote offending values only clipped, so that a huge bad value
 * cannot make the error itself too large to deliver.
 */
public final class Text {
    private Text() {}

    /** Null when the characters are storable, else why not. */
    static String problem(char[] chars, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            char c = chars[i];
            if (c == 0) return "contains a NUL character (\\u0000), which cannot be stored";
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < end && Character.isLowSurrogate(chars[i + 1])) {
                    i++;
                } else {
                    return "contains an unpaired surrogate (invalid UTF-16)";
                }
            } else if (Character.isLowSurrogate(c)) {
                return "contains an unpaired surrogate (invalid UTF-16)";
            }
        }
        return null;
    }

    /** Throws INVALID_ARGUMENT naming the field when the value cannot be stored. */
    static void check(String field, String value) {
        if (value == null) return;
        String bad = problem(value.toCharArray(), 0, value.length());
        if (bad != null) throw EngineException.invalid(field + ": " + bad);
    }

    /** The value for an error message: at most {@code max} characters. */
    public static String clip(String value, int max) {
        if (value == null) return "null";
        return value.length() <= max ? value : value.substring(0, max) + "…(" + value.length() + " chars)";
    }
}
