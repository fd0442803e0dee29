package dev.drover.server.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the hot paths: how many batches, how big, how long. Cheap enough to keep always on;
 * the benchmark and (later) the dashboard read them.
 */
public final class EngineStats {
    final LongAdder claimBatches = new LongAdder();
    final LongAdder claimedTasks = new LongAdder();
    final LongAdder claimNanos = new LongAdder();
    final LongAdder reportBatches = new LongAdder();
    final LongAdder reportEvents = new LongAdder();
    final LongAdder reportNanos = new LongAdder();
    final LongAdder triggerGroups = new LongAdder();
    final LongAdder triggeredRuns = new LongAdder();
    final LongAdder triggerNanos = new LongAdder();
    /** Steps made ready by a report and leased to the reporting worker in the same transaction (no claim). */
    final LongAdder handedOff = new LongAdder();
    /** Successes of single-step runs recorded by one autocommitted statement (no report transaction). */
    final LongAdder oneStatementReports = new LongAdder();

    public record Snapshot(long claimBatches, long claimedTasks, long claimMicros, long reportBatches, long reportEvents,
                           long reportMicros, long triggerGroups, long triggeredRuns, long triggerMicros, long handedOff,
                           long oneStatementReports) {
        @Override
        public String toString() {
            return String.format("claims %d (avg %.1f tasks, %.2f ms) | reports %d (avg %.1f events, %.2f ms) | "
                            + "trigger groups %d (avg %.1f runs, %.2f ms) | handed off %d | one-statement successes %d",
                    claimBatches, avg(claimedTasks, claimBatches), avg(claimMicros, claimBatches) / 1000,
                    reportBatches, avg(reportEvents, reportBatches), avg(reportMicros, reportBatches) / 1000,
                    triggerGroups, avg(triggeredRuns, triggerGroups), avg(triggerMicros, triggerGroups) / 1000, handedOff,
                    oneStatementReports);
        }

        private static double avg(long a, long b) {
            return b == 0 ? 0 : (double) a / b;
        }
    }

    public Snapshot snapshot() {
        return new Snapshot(claimBatches.sum(), claimedTasks.sum(), claimNanos.sum() / 1000, reportBatches.sum(),
                reportEvents.sum(), reportNanos.sum() / 1000, triggerGroups.sum(), triggeredRuns.sum(),
                triggerNanos.sum() / 1000, handedOff.sum(), oneStatementReports.sum());
    }
}
