package dev.drover.server.engine;

import java.security.SecureRandom;
import java.util.UUID;

/** Run ids are UUIDv7 (RFC 9562): time-ordered, so the primary key index stays append-mostly. */
final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {}

    static UUID newRunId() {
        long ms = System.currentTimeMillis();
        long randA = RANDOM.nextInt(1 << 12);
        long msb = (ms << 16) | (0x7L << 12) | randA;
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }

    static UUID parse(String field, String value) {
        try {
            return UUID.fromString(value);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw EngineException.invalid(field + ": not a valid id: '" + value + "'");
        }
    }
}
