package dev.drover.sdk.internal;

import dev.drover.sdk.DroverException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
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
 * <p>No thread of its own: a caller that finds a free sending permit becomes the sender (it sends
 * batches until the queue is empty, then releases the permit and looks once more, so a call queued
 * just as the last sender left is never stranded). A failed batch is retried item by item, so each
 * caller gets its own answer: one invalid request never fails the others it was grouped with.
 * Callers must only submit requests that are safe to send together (see the callers).
 */
public final class Coalescer<Q, R> {
    private final Function<Q, R> single;
    private final Function<List<Q>, List<R>> batch;
    private final ToIntFunction<Q> sizeOf;
    private final int maxItems;
    private final int maxBytes;
    private final Semaphore permits;
    private final ConcurrentLinkedQueue<Pending<Q, R>> queue = new ConcurrentLinkedQueue<>();

    private record Pending<Q, R>(Q request, int size, CompletableFuture<R> result) {}

    public Coalescer(Function<Q, R> single, Function<List<Q>, List<R>> batch, ToIntFunction<Q> sizeOf,
                     int maxItems, int maxBytes, int maxInFlight) {
        this.single = single;
        this.batch = batch;
        this.sizeOf = sizeOf;
        this.maxItems = maxItems;
        this.maxBytes = maxBytes;
        this.permits = new Semaphore(maxInFlight);
    }

    /** Sends the request, alone or with others queued at the same time, and returns its own response. */
    public R call(Q request) {
        Pending<Q, R> p = new Pending<>(request, sizeOf.applyAsInt(request), new CompletableFuture<>());
        queue.add(p);
        while (!p.result().isDone()) {
            if (permits.tryAcquire()) {
                sendUntilEmpty();
            } else {
                // Every permit holder is mid-send; each drains the queue again before it leaves.
                break;
            }
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

    /** Called holding a permit; returns having released it, with no call left behind in the queue. */
    private void sendUntilEmpty() {
        Pending<Q, R> carry = null; // taken from the queue but over the byte budget: heads the next batch
        while (true) {
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
            if (!group.isEmpty()) {
                send(group);
                continue;
            }
            permits.release();
            // A call queued after the poll above found the queue empty, by a caller that found no permit
            // free, would wait forever: look once more now that the permit is back.
            if (queue.isEmpty() || !permits.tryAcquire()) return;
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
            return;
        }
        for (int i = 0; i < group.size(); i++) group.get(i).result().complete(responses.get(i));
    }

    private static boolean perRequest(DroverException.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION -> true;
            default -> false;
        };
    }
}
