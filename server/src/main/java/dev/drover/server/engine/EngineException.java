package dev.drover.server.engine;

/** A request the engine refuses, with the reason a caller can act on; transports map {@link Kind} to a status. */
public final class EngineException extends RuntimeException {
    public enum Kind { INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE, FAILED_PRECONDITION }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * Turns a database failure into UNAVAILABLE (the caller may retry; nothing was half-done, since
     * every change is one transaction); anything else is returned unchanged.
     */
    public static RuntimeException classify(RuntimeException e) {
        if (e instanceof dev.drover.server.store.StoreException se) {
            if (se.isDataException()) {
                // The database refused a value (class 22): the request's fault, and retrying cannot help.
                return new EngineException(Kind.INVALID_ARGUMENT, "a value was refused by the database: "
                        + Text.clip(se.getMessage(), 300), se);
            }
            return new EngineException(Kind.UNAVAILABLE, "database unavailable, retry later: "
                    + Text.clip(se.getMessage(), 300), se);
        }
        return e;
    }

    static EngineException invalid(String message) {
        return new EngineException(Kind.INVALID_ARGUMENT, message);
    }

    static EngineException notFound(String message) {
        return new EngineException(Kind.NOT_FOUND, message);
    }
}
