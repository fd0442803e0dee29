package dev.drover.server.store;

/**
 * A database operation failed. {@link #isTransient()} tells whether retrying later can help
 * (connection lost, server shutting down, serialization failure) as opposed to a bug or bad data.
 */
public final class StoreException extends RuntimeException {
    private final boolean transientFailure;

    public StoreException(String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    /** The database refused a value (SQLSTATE class 22: bad encoding, out of range, invalid text). */
    public boolean isDataException() {
        return getCause() instanceof java.sql.SQLException se && se.getSQLState() != null && se.getSQLState().startsWith("22");
    }

    /** A row's key exists already (SQLSTATE 23505). */
    public boolean isUniqueViolation() {
        return getCause() instanceof java.sql.SQLException se && "23505".equals(se.getSQLState());
    }

    /** A deadlock or serialization failure: the transaction can simply be run again. */
    public boolean isRetryableConflict() {
        Throwable c = getCause();
        return c instanceof java.sql.SQLException se && se.getSQLState() != null
                && (se.getSQLState().equals("40P01") || se.getSQLState().equals("40001"));
    }

    public boolean isTransient() {
        return transientFailure;
    }

    static StoreException wrap(java.sql.SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        // 08: connection exceptions; 57P: operator intervention (shutdown, terminate_backend);
        // 40: transaction rollback (serialization, deadlock); 53: insufficient resources.
        boolean transientFailure = state.startsWith("08") || state.startsWith("57P") || state.startsWith("40")
                || state.startsWith("53") || e instanceof java.sql.SQLTransientException
                || e instanceof java.sql.SQLRecoverableException;
        return new StoreException(e.getMessage(), e, transientFailure);
    }
}
