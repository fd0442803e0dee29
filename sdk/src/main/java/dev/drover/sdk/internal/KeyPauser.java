package dev.drover.sdk.internal;

import java.time.Duration;

/**
 * Pauses a key of a rate limit for a step that was told "too many requests" (implemented by the
 * client whose connection the worker shares).
 *
 * <pre>{@code
 * pauser.pause("stripe", "c-42", Duration.ofSeconds(30), "429 from step charge of run 0190...");
 * }</pre>
 */
@FunctionalInterface
public interface KeyPauser {
  /** Pauses {@code key} of {@code limitName} for {@code duration} from now on the server's clock. */
  void pause(String limitName, String key, Duration duration, String reason);
}
