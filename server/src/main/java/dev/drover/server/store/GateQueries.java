package dev.drover.server.store;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** SQL of the concurrency gate: drover_gate_key (holders per key) and drover_gate_member. */
public final class GateQueries {
    /** A member row: a run (step "") or step waiting for, or holding, a group key. */
    public record Member(UUID runId, String stepName, String gkey, String state, int maxRunning, String strategy, long rank,
                         String tenantId) {}

    /** Creates missing keys, then locks them all in key order (one order everywhere: no deadlock); returns holders per key. */
    public Map<String, Integer> lockKeys(StoreTx tx, String tenantId, String[] gkeys) {
        java.util.Arrays.sort(gkeys);
        tx.update("""
                INSERT INTO drover_gate_key (tenant_id, gkey) SELECT ?, k FROM unnest(?::text[]) AS k ORDER BY k
                ON CONFLICT DO NOTHING""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("text", gkeys));
                });
        Map<String, Integer> out = new HashMap<>();
        tx.query("SELECT gkey, running FROM drover_gate_key WHERE tenant_id = ? AND gkey = ANY(?) ORDER BY gkey FOR UPDATE",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("text", gkeys));
                }, rs -> out.put(rs.getString(1), rs.getInt(2)));
        return out;
    }

    /** Those of the keys that have members waiting. */
    public Set<String> keysWithWaiting(StoreTx tx, String tenantId, String[] gkeys) {
        return new HashSet<>(tx.query("""
                SELECT k FROM unnest(?::text[]) AS k
                 WHERE EXISTS (SELECT 1 FROM drover_gate_member m
                                WHERE m.tenant_id = ? AND m.gkey = k AND m.state = 'waiting')""",
                ps -> {
                    ps.setArray(1, tx.array("text", gkeys));
                    ps.setString(2, tenantId);
                }, rs -> rs.getString(1)));
    }

    public void insertMembers(StoreTx tx, String tenantId, List<Member> members) {
        if (members.isEmpty()) return;
        int n = members.size();
        Object[] runs = new Object[n], steps = new Object[n], keys = new Object[n], states = new Object[n],
                maxes = new Object[n], strategies = new Object[n], ranks = new Object[n];
        for (int i = 0; i < n; i++) {
            Member m = members.get(i);
            runs[i] = m.runId();
            steps[i] = m.stepName();
            keys[i] = m.gkey();
            states[i] = m.state();
            maxes[i] = m.maxRunning();
            strategies[i] = m.strategy();
            ranks[i] = m.rank();
        }
        tx.update("""
                INSERT INTO drover_gate_member (tenant_id, run_id, step_name, gkey, state, max_running, strategy, rank)
                SELECT ?, u.run_id, u.step, u.gkey, u.state, u.max, u.strategy,
                       CASE WHEN u.rank > 0 THEN u.rank ELSE (extract(epoch FROM clock_timestamp()) * 1000)::bigint END
                  FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::bigint[])
                       AS u(run_id, step, gkey, state, max, strategy, rank)
                ON CONFLICT DO NOTHING""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("uuid", runs));
                    ps.setArray(3, tx.array("text", steps));
                    ps.setArray(4, tx.array("text", keys));
                    ps.setArray(5, tx.array("text", states));
                    ps.setArray(6, tx.array("int", maxes));
                    ps.setArray(7, tx.array("text", strategies));
                    ps.setArray(8, tx.array("bigint", ranks));
                });
    }

    /** Adds {@code delta} holders to each key (keys locked by the caller). */
    public void addRunning(StoreTx tx, String tenantId, Map<String, Integer> deltas) {
        if (deltas.isEmpty()) return;
        String[] keys = deltas.keySet().toArray(String[]::new);
        java.util.Arrays.sort(keys);
        Object[] d = new Object[keys.length];
        for (int i = 0; i < keys.length; i++) d[i] = deltas.get(keys[i]);
        tx.update("""
                UPDATE drover_gate_key g SET running = g.running + u.d
                  FROM unnest(?::text[], ?::int[]) AS u(gkey, d)
                 WHERE g.tenant_id = ? AND g.gkey = u.gkey""",
                ps -> {
                    ps.setArray(1, tx.array("text", keys));
                    ps.setArray(2, tx.array("int", d));
                    ps.setString(3, tenantId);
                });
    }

    /** Removes the members of the runs (all their steps) or of one step; returns them. */
    public List<Member> deleteMembers(StoreTx tx, UUID[] runIds, String stepOrNull) {
        return tx.query("""
                DELETE FROM drover_gate_member WHERE run_id = ANY(?) AND (?::text IS NULL OR step_name = ?)
                RETURNING run_id, step_name, gkey, state, max_running, strategy, rank, tenant_id""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", runIds));
                    ps.setString(2, stepOrNull);
                    ps.setString(3, stepOrNull);
                }, GateQueries::member);
    }

    /** The oldest waiting members of a key. */
    public List<Member> waiting(StoreTx tx, String tenantId, String gkey, int limit) {
        return tx.query("""
                SELECT run_id, step_name, gkey, state, max_running, strategy, rank, tenant_id FROM drover_gate_member
                 WHERE tenant_id = ? AND gkey = ? AND state = 'waiting' ORDER BY rank, run_id LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, gkey);
                    ps.setInt(3, limit);
                }, GateQueries::member);
    }

    /** A waiting member with the number of keys it waits for (1 = this key only: no other key to check). */
    public record Candidate(Member member, int keys) {}

    /** The oldest waiting members of a key, each with how many keys it waits for. */
    public List<Candidate> candidates(StoreTx tx, String tenantId, String gkey, int limit) {
        return tx.query("""
                SELECT m.run_id, m.step_name, m.gkey, m.state, m.max_running, m.strategy, m.rank, m.tenant_id,
                       (SELECT count(*) FROM drover_gate_member o WHERE o.run_id = m.run_id AND o.step_name = m.step_name)
                  FROM drover_gate_member m
                 WHERE m.tenant_id = ? AND m.gkey = ? AND m.state = 'waiting' ORDER BY m.rank, m.run_id LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, gkey);
                    ps.setInt(3, limit);
                }, rs -> new Candidate(member(rs), rs.getInt(9)));
    }

    /** Marks the given single-key members running. */
    public void markRunning(StoreTx tx, List<Member> members) {
        if (members.isEmpty()) return;
        Object[] runs = members.stream().map(Member::runId).toArray();
        Object[] steps = members.stream().map(Member::stepName).toArray();
        tx.update("""
                UPDATE drover_gate_member m SET state = 'running'
                  FROM unnest(?::uuid[], ?::text[]) AS u(run_id, step)
                 WHERE m.run_id = u.run_id AND m.step_name = u.step""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", runs));
                    ps.setArray(2, tx.array("text", steps));
                });
    }

    /** The oldest holders of a key (cancel_in_progress cancels these). */
    public List<Member> oldestRunning(StoreTx tx, String tenantId, String gkey, int limit) {
        return tx.query("""
                SELECT run_id, step_name, gkey, state, max_running, strategy, rank, tenant_id FROM drover_gate_member
                 WHERE tenant_id = ? AND gkey = ? AND state = 'running' ORDER BY rank, run_id LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, gkey);
                    ps.setInt(3, limit);
                }, GateQueries::member);
    }

    /** Every member row of one run-or-step (its stacked groups). */
    public List<Member> membersOf(StoreTx tx, UUID runId, String step) {
        return tx.query("""
                SELECT run_id, step_name, gkey, state, max_running, strategy, rank, tenant_id FROM drover_gate_member
                 WHERE run_id = ? AND step_name = ? ORDER BY gkey""",
                ps -> {
                    ps.setObject(1, runId);
                    ps.setString(2, step);
                }, GateQueries::member);
    }

    public void markRunning(StoreTx tx, UUID runId, String step) {
        tx.update("UPDATE drover_gate_member SET state = 'running' WHERE run_id = ? AND step_name = ?",
                ps -> {
                    ps.setObject(1, runId);
                    ps.setString(2, step);
                });
    }

    /** Holders per key as the members say (for checks): key -> count of running members. */
    public Map<String, Integer> countRunning(StoreTx tx, String tenantId) {
        Map<String, Integer> out = new HashMap<>();
        tx.query("SELECT gkey, count(*) FROM drover_gate_member WHERE tenant_id = ? AND state = 'running' GROUP BY gkey",
                ps -> ps.setString(1, tenantId), rs -> out.put(rs.getString(1), rs.getInt(2)));
        return out;
    }

    private static Member member(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Member(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5),
                rs.getString(6), rs.getLong(7), rs.getString(8));
    }
}
