package dev.drover.server.engine;

import java.time.Duration;

/**
 * Timing knobs of the engine.
 *
 * @param leaseTimeout      a worker silent this long loses its steps
 * @param heartbeatInterval what workers are told to use
 * @param retention         finished runs older than this are pruned
 * @param pollInterval      how often the dispatcher looks for work nobody told it about
 *                          (retries whose backoff ended, work queued by another replica)
 * @param maxPayloadBytes   the largest run input or step output accepted
 */
public record EngineSettings(Duration leaseTimeout, Duration heartbeatInterval, Duration retention, Duration pollInterval,
                             int maxPayloadBytes) {
    public static final String DEFAULT_TENANT = "default";
}
