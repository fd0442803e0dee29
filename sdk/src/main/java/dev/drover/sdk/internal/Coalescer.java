package dev.drover.sdk.internal;

import dev.drover.sdk.DroverException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Turns concurrent single calls (a web app's request threads each triggering one run) into batch
 * calls: one RPC, one server transaction, for whatever calls are waiting at that moment. Nothing
 * waits on purpose: with one caller each call goes out alone and at once, exactly as before; only
 * while {@code maxInFlight} batches are already on the wire do new calls queue up, and the next sender
 * takes all of them. That is where the per-call cost goes: a gRPC unary call costs the client and the
 * server far more CPU than one more row in a batch (measured in the concurrent-triggers benchmark).
 *
 * <p>No thread of its own: a caller that finds a free sending permit becomes a sender until its own
 * call is answered (never longer: a web request thread must not spend a second sending other
 * threads' triggers, which the benchmark saw when a sender drained the queue for as long as callers
 * kept filling it). Leaving, it releases the permit and wakes the caller of the oldest queued call,
 * which takes the permit and sends; a caller without a permit parks until it is answered or woken,
 * with a short timed backstop, so no call is stranded. A failed batch is retried item by item, so each
 * caller gets its own answer: one invalid request never fails the others it was grouped with.
 * Callers must only submit requests that are safe to send together (see the callers).
 */
public final class Coalescer<Q, R> {
    private final Function<Q, R> single;
    private final Function<List<Q>, List<R>> batch;
    private final Function<R, RuntimeException> itemFailure;
    private final ToIntFunction<Q> sizeOf;
    private final int maxItems;
    private final int maxBytes;
    private final Semaphore permits;
    private final ConcurrentLinkedQueue<Pending<Q, R>> queue = new ConcurrentLinkedQueue<>();

    /** Longest a caller without a permit parks before it looks again (a backstop: senders wake it). */
    private static final long BACKSTOP_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private record Pending<Q, R>(Q request, int size, CompletableFuture<R> result, Thread caller) {}

    /**
     * @param itemFailure the failure a batch response item reports for its own request, or null when
     *     it succeeded (batches whose items stand alone answer per item)
     */
    public Coalescer(Function<Q, R> single, Function<List<Q>, List<R>> batch, Function<R, RuntimeException> itemFailure,
                     ToIntFunction<Q> sizeOf, int maxItems, int maxBytes, int maxInFlight) {
        this.single = single;
        this.batch = batch;
        this.itemFailure = itemFailure;
        this.sizeOf = sizeOf;
        this.maxItems = maxItems;
        this.maxBytes = maxBytes;
        this.permits = new Semaphore(maxInFlight);
    }

    /** Sends the request, alone or with others queued at the same time, and returns its own response. */
    public R call(Q request) {
        Pending<Q, R> p = new Pending<>(request, sizeOf.applyAsInt(request), new CompletableFuture<>(),
                Thread.currentThread());
        queue.add(p);
        while (!p.result().isDone()) {
            // With the queue empty this call is on the wire in another sender's batch: wait for it.
            if (!queue.isEmpty() && permits.tryAcquire()) {
                sendUntilAnswered(p);
                continue;
            }
            // Every permit is held by a sender: one of them sends this call, or wakes its caller.
            if (Thread.currentThread().isInterrupted()) {
                throw new DroverException(DroverException.Code.OTHER, "interrupted while triggering");
            }
            LockSupport.parkNanos(this, BACKSTOP_NANOS);
        }
        try {
            return p.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DroverException(DroverException.Code.OTHER, "interrupted while triggering", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new DroverException(DroverException.Code.OTHER, String.valueOf(e.getCause()), e.getCause());
        }
    }

    /**
     * Called holding a permit: sends batches (the oldest queued calls first, its own among them) until
     * {@code own} is answered or the queue is empty (then another sender has it on the wire), and
     * returns having released the permit and woken the caller of the oldest call still queued.
     */
    private void sendUntilAnswered(Pending<Q, R> own) {
        Pending<Q, R> carry = null; // taken from the queue but over the byte budget: heads the next batch
        try {
            while (carry != null || !own.result().isDone()) {
                List<Pending<Q, R>> group = new ArrayList<>();
                long bytes = 0;
                if (carry != null) {
                    group.add(carry);
                    bytes = carry.size();
                    carry = null;
                }
                Pending<Q, R> p;
                while (group.size() < maxItems && (p = queue.poll()) != null) {
                    if (!group.isEmpty() && bytes + p.size() > maxBytes) {
                        carry = p;
                        break;
                    }
                    group.add(p);
                    bytes += p.size();
                }
                if (group.isEmpty()) break;
                send(group);
            }
        } finally {
            permits.release();
            Pending<Q, R> next = queue.peek();
            if (next != null) LockSupport.unpark(next.caller());
        }
    }

    private void send(List<Pending<Q, R>> group) {
        if (group.size() == 1) {
            Pending<Q, R> p = group.get(0);
            try {
                p.result().complete(single.apply(p.request()));
            } catch (RuntimeException | Error e) {
                p.result().completeExceptionally(e);
            }
            wake(group);
            return;
        }
        List<Q> requests = new ArrayList<>(group.size());
        for (Pending<Q, R> p : group) requests.add(p.request());
        List<R> responses;
        try {
            responses = batch.apply(requests);
        } catch (RuntimeException | Error e) {
            if (!(e instanceof DroverException de) || !perRequest(de.code())) {
                // Unreachable server, timeout, bad token: the same answer for every call in the batch
                // (the batch was already retried as long as a single call would have been).
                for (Pending<Q, R> p : group) p.result().completeExceptionally(e);
                wake(group);
                return;
            }
            // All or nothing on the server: find out which request it was, each gets its own answer.
            for (Pending<Q, R> p : group) {
                try {
                    p.result().complete(single.apply(p.request()));
                } catch (RuntimeException | Error one) {
                    p.result().completeExceptionally(one);
                }
            }
            wake(group);
            return;
        }
        for (int i = 0; i < group.size(); i++) {
            Pending<Q, R> p = group.get(i);
            RuntimeException failed = itemFailure.apply(responses.get(i));
            if (failed == null) {
                p.result().complete(responses.get(i));
            } else if (failed instanceof DroverException de && perRequest(de.code())) {
                p.result().completeExceptionally(failed);
            } else {
                // Not stored and not the request's fault (the database was unavailable for that item's
                // group): the single call retries it as long as any trigger is retried.
                try {
                    p.result().complete(single.apply(p.request()));
                } catch (RuntimeException | Error one) {
                    p.result().completeExceptionally(one);
                }
            }
        }
        wake(group);
    }

    /** Callers without a permit park until their call is answered. */
    private static void wake(List<? extends Pending<?, ?>> group) {
        Thread me = Thread.currentThread();
        for (Pending<?, ?> p : group) {
            if (p.caller() != me) LockSupport.unpark(p.caller());
        }
    }

    private static boolean perRequest(DroverException.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION -> true;
            default -> false;
        };
    }
}
