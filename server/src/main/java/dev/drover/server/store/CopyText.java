package dev.drover.server.store;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Rows in PostgreSQL's COPY text format (tab-separated, {@code \N} for null, backslash escapes), for
 * {@link StoreTx#copyIn}. Only what the bulk inserts need: text, numbers, uuids.
 */
final class CopyText {
    private final StringBuilder out;
    private boolean lineStart = true;

    CopyText(int expectedRows, int bytesPerRow) {
        out = new StringBuilder(Math.max(16, expectedRows * bytesPerRow));
    }

    private void sep() {
        if (!lineStart) out.append('\t');
        lineStart = false;
    }

    CopyText text(String s) {
        sep();
        if (s == null) {
            out.append("\\N");
            return this;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
        return this;
    }

    CopyText uuid(UUID u) {
        sep();
        out.append(u == null ? "\\N" : u.toString());
        return this;
    }

    CopyText num(long n) {
        sep();
        out.append(n);
        return this;
    }

    CopyText num(Integer n) {
        sep();
        if (n == null) out.append("\\N");
        else out.append(n.intValue());
        return this;
    }

    CopyText endRow() {
        out.append('\n');
        lineStart = true;
        return this;
    }

    byte[] bytes() {
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }
}
