package dev.drover.sdk.internal;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Client-chosen run ids (UUIDv7, time-ordered like the server's own). Sending the id with a trigger
 * makes the trigger safe to retry: the server returns the run the first attempt created.
 */
public final class RunIds {
  private RunIds() {}

  public static String next() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long ms = System.currentTimeMillis();
    long msb = (ms << 16) | (0x7L << 12) | random.nextInt(1 << 12);
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }
}
