package dev.drover.sdk;

/**
 * An error returned by the Drover server (or the transport to it), with a coarse {@link Code}
 * so callers can react without depending on gRPC.
 *
 * <pre>{@code
 * try { client.getRun(id); }
 * catch (DroverException e) { if (e.code() == DroverException.Code.NOT_FOUND) { ... } }
 * }</pre>
 */
public class DroverException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, mirroring the gRPC status codes the server uses. */
  public enum Code {
    /** The request was malformed; the message names the field. */
    INVALID_ARGUMENT,
    /** Unknown workflow or run. */
    NOT_FOUND,
    /** Missing or wrong token. */
    UNAUTHENTICATED,
    /** The server could not be reached. */
    UNAVAILABLE,
    /** The entity already exists. */
    ALREADY_EXISTS,
    /** The operation is not allowed in the current state. */
    FAILED_PRECONDITION,
    /** A server-side bug or failure. */
    INTERNAL,
    /** The call did not finish within its deadline. */
    DEADLINE_EXCEEDED,
    /** Anything else. */
    OTHER
  }

  private final Code code;

  /** Creates an exception with the given code and message. */
  public DroverException(Code code, String message) {
    this(code, message, null);
  }

  /** Creates an exception with the given code, message and cause. */
  public DroverException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The error category. */
  public Code code() {
    return code;
  }
}
