package dev.drover.server.engine;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Run ids are UUIDv7 (RFC 9562): time-ordered, so the primary key index stays append-mostly. The
 * random bits need to be unique, not secret (access is guarded by tokens), so they come from the
 * fast per-thread generator rather than SecureRandom, which serializes callers on /dev/urandom.
 */
final class Ids {

    private Ids() {}

    static UUID newRunId() {
        long ms = System.currentTimeMillis();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long randA = random.nextInt(1 << 12);
        long msb = (ms << 16) | (0x7L << 12) | randA;
        long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }

    static UUID parse(String field, String value) {
        try {
            return UUID.fromString(value);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw EngineException.invalid(field + ": not a valid id: '" + Text.clip(value, 80) + "'");
        }
    }
}
