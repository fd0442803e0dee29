package dev.drover.server.store;

import dev.drover.server.store.Rows.ArmedWait;
import dev.drover.server.store.Rows.EndedWait;
import java.util.List;
import java.util.UUID;

/** SQL of drover_wait: steps in a durable sleep or waiting for an event. */
public final class WaitQueries {
    /** A wait to begin; {@code eventName} null for a pure sleep. */
    public record NewWait(UUID runId, String stepName, String tenantId, long sleepMs, String eventName, String match,
                          long timeoutMs, String onTimeout) {}

    public void insert(StoreTx tx, List<NewWait> waits) {
        int n = waits.size();
        Object[] runs = new Object[n], steps = new Object[n], tenants = new Object[n], sleeps = new Object[n],
                events = new Object[n], matches = new Object[n], timeouts = new Object[n], onTimeout = new Object[n];
        for (int i = 0; i < n; i++) {
            NewWait w = waits.get(i);
            runs[i] = w.runId();
            steps[i] = w.stepName();
            tenants[i] = w.tenantId();
            sleeps[i] = w.sleepMs();
            events[i] = w.eventName();
            matches[i] = w.match();
            timeouts[i] = w.timeoutMs();
            onTimeout[i] = w.onTimeout();
        }
        tx.update("""
                INSERT INTO drover_wait (run_id, step_name, tenant_id, wake_at, event_name, match, timeout_at, on_timeout)
                SELECT u.run_id, u.step, u.tenant, now() + u.sleep * interval '1 millisecond', u.event, u.match,
                       CASE WHEN u.event IS NOT NULL AND u.timeout > 0
                            THEN now() + (u.sleep + u.timeout) * interval '1 millisecond' END,
                       u.on_timeout
                  FROM unnest(?::uuid[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[])
                       AS u(run_id, step, tenant, sleep, event, match, timeout, on_timeout)
                ON CONFLICT (run_id, step_name) DO NOTHING""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", runs));
                    ps.setArray(2, tx.array("text", steps));
                    ps.setArray(3, tx.array("text", tenants));
                    ps.setArray(4, tx.array("bigint", sleeps));
                    ps.setArray(5, tx.array("text", events));
                    ps.setArray(6, tx.array("text", matches));
                    ps.setArray(7, tx.array("bigint", timeouts));
                    ps.setArray(8, tx.array("text", onTimeout));
                });
    }

    private static final String ENDED = """
            RETURNING w.run_id, w.step_name, w.tenant_id, r.workflow_name, r.workflow_version, r.priority, s.attempts,
                      w.on_timeout""";

    /** Ends (deletes) up to {@code limit} sleeps that are over, by the database clock. */
    public List<EndedWait> endSleeps(StoreTx tx, int limit) {
        return tx.query("""
                DELETE FROM drover_wait w USING drover_run r, drover_step_run s
                 WHERE (w.run_id, w.step_name) IN (SELECT run_id, step_name FROM drover_wait
                                                   WHERE event_name IS NULL AND wake_at <= now()
                                                   ORDER BY wake_at LIMIT ? FOR UPDATE SKIP LOCKED)
                   AND r.id = w.run_id AND s.run_id = w.run_id AND s.step_name = w.step_name
                """ + ENDED, ps -> ps.setInt(1, limit), WaitQueries::ended);
    }

    /** Ends (deletes) up to {@code limit} event waits whose timeout passed. */
    public List<EndedWait> endTimedOut(StoreTx tx, int limit) {
        return tx.query("""
                DELETE FROM drover_wait w USING drover_run r, drover_step_run s
                 WHERE (w.run_id, w.step_name) IN (SELECT run_id, step_name FROM drover_wait
                                                   WHERE timeout_at <= now()
                                                   ORDER BY timeout_at LIMIT ? FOR UPDATE SKIP LOCKED)
                   AND r.id = w.run_id AND s.run_id = w.run_id AND s.step_name = w.step_name
                """ + ENDED, ps -> ps.setInt(1, limit), WaitQueries::ended);
    }

    /**
     * Locks the armed waits for an event name (sleep over), in key order. Not SKIP LOCKED: a wait
     * another transaction holds may still match this event, so it is waited for, never passed over.
     */
    public List<ArmedWait> armedFor(StoreTx tx, String tenantId, String eventName) {
        return tx.query("""
                SELECT w.run_id, w.step_name, w.match, r.input::text
                  FROM drover_wait w JOIN drover_run r ON r.id = w.run_id
                 WHERE w.tenant_id = ? AND w.event_name = ? AND w.wake_at <= now()
                 ORDER BY w.run_id, w.step_name
                   FOR UPDATE OF w""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, eventName);
                }, rs -> new ArmedWait(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4)));
    }

    /** Ends (deletes) the given waits, returning what is needed to queue their steps. */
    public List<EndedWait> end(StoreTx tx, UUID[] runIds, String[] steps) {
        return tx.query("""
                DELETE FROM drover_wait w USING drover_run r, drover_step_run s, unnest(?::uuid[], ?::text[]) AS u(run_id, step)
                 WHERE w.run_id = u.run_id AND w.step_name = u.step
                   AND r.id = w.run_id AND s.run_id = w.run_id AND s.step_name = w.step_name
                """ + ENDED,
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setArray(2, tx.array("text", steps));
                }, WaitQueries::ended);
    }

    public int deleteForRun(StoreTx tx, UUID runId) {
        return tx.update("DELETE FROM drover_wait WHERE run_id = ?", ps -> ps.setObject(1, runId));
    }

    private static EndedWait ended(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new EndedWait(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getInt(6), rs.getInt(7), rs.getString(8));
    }
}
