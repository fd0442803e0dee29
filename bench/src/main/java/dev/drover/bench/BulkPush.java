package dev.drover.bench;

import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.EventRequest;
import dev.drover.sdk.PushResult;
import dev.drover.sdk.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Recorder;

/**
 * {@code bulk-push}: time {@code pushMany} calls of 10,000 events each, every event starting one
 * single-step run of a listening workflow, while a worker runs them. Throughput = events accepted
 * durably (each with its run) per second of pushing; {@code completed_per_s} counts until the last
 * run succeeded.
 */
final class BulkPush implements Workload {
  static final int DEFAULT_EVENTS = 100_000;

  @Override
  public String name() {
    return "bulk-push";
  }

  @Override
  public String description() {
    return "time pushMany calls (10,000 events each, each event starting one run) with a worker running them";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int events = h.cfg.runsOr(DEFAULT_EVENTS);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    int callers = h.cfg.concurrencyOr(1);
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    h.registerDefinitions();
    h.warmup(NoopWorkflow.NAME, slots, null);
    Worker w = h.workers.newWorker("bench-events").register(new EventNoopWorkflow(h.probe)).slots(slots).start();
    try {
      int warm = Math.min(h.cfg.warmupOr(2000), Harness.MAX_BATCH);
      if (warm > 0) {
        h.progress("warming up: " + warm + " events");
        Probe.Phase p = h.probe.begin(warm);
        push(h, p, warm, Math.min(batch, warm), 1, null);
        h.awaitDone(p);
      }
      h.progress("pushing " + events + " events with pushMany (batches of " + batch + ", " + callers + " caller(s))");
      Recorder calls = new Recorder(3);
      Probe.Phase p = h.probe.begin(events);
      long start = System.nanoTime();
      long pushNanos = push(h, p, events, batch, callers, calls);
      long doneNanos = h.awaitDone(p) - start;

      ObjectNode params = Workload.params();
      params.put("batch_size", batch);
      params.put("concurrency", callers);
      params.put("slots", slots);
      params.put("warmup", h.cfg.warmupOr(2000));
      ObjectNode o = Workload.result(params, events, Workload.seconds(pushNanos), events / Workload.seconds(pushNanos),
          NullNode.getInstance());
      o.put("completed_seconds", Reports.round(Workload.seconds(doneNanos), 3));
      o.put("completed_per_s", Reports.round(events / Workload.seconds(doneNanos), 1));
      o.set("batch_call_ms", Reports.percentiles(calls.getIntervalHistogram()));
      return o;
    } finally {
      Harness.stop(w);
    }
  }

  /** Pushes events {@code [0, count)} of the phase in batches from {@code callers} threads; returns the ns taken. */
  private static long push(Harness h, Probe.Phase p, int count, int batch, int callers, Recorder callTimes)
      throws InterruptedException {
    List<List<EventRequest>> batches = new ArrayList<>();
    for (int s = 0; s < count; s += batch) {
      List<EventRequest> reqs = new ArrayList<>();
      for (int i = s; i < Math.min(count, s + batch); i++) {
        reqs.add(EventRequest.of(EventNoopWorkflow.EVENT, new BenchInput(p.id(), i, 0, 0)));
      }
      batches.add(reqs);
    }
    AtomicInteger next = new AtomicInteger();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < callers; c++) {
      threads.add(Thread.ofPlatform().name("bench-push-" + c).daemon(true).start(() -> {
        int k;
        while (failure.get() == null && (k = next.getAndIncrement()) < batches.size()) {
          long t = System.nanoTime();
          try {
            List<PushResult> accepted = h.triggers.pushMany(batches.get(k));
            for (PushResult r : accepted) {
              if (r.runIds().size() != 1) {
                throw new IllegalStateException("event " + r.eventId() + " started " + r.runIds().size() + " runs, not 1");
              }
            }
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            return;
          }
          if (callTimes != null) {
            callTimes.recordValue(System.nanoTime() - t);
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    long elapsed = System.nanoTime() - start;
    if (failure.get() != null) {
      throw failure.get();
    }
    return elapsed;
  }
}
