package dev.drover.server.engine;

import dev.drover.proto.v1.Assignment;

/** The open assignment stream of one worker, provided by the transport. */
public interface WorkerConnection {
    /** Sends one message; false when the stream is gone (the caller gives the work back). */
    boolean send(Assignment assignment);

    /** Ends the stream (server shutdown, or the worker reconnected elsewhere). */
    void close();
}
