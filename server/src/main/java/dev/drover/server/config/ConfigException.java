package dev.drover.server.config;

/** A setting is missing or malformed; the message names the setting and says what is expected. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
