package dev.drover.server.store;

import java.util.UUID;

/** SQL of drover_worker: who is connected, for people and for other server replicas. */
public final class WorkerQueries {

    public void upsert(StoreTx tx, UUID id, String tenantId, String name, int slots, String labelsJson,
                       String[] actions, String sdk) {
        tx.update("""
                INSERT INTO drover_worker (id, tenant_id, name, slots, labels, actions, sdk)
                VALUES (?, ?, ?, ?, ?::jsonb, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, slots = excluded.slots, labels = excluded.labels,
                    actions = excluded.actions, sdk = excluded.sdk, last_heartbeat_at = now()""",
                ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, tenantId);
                    ps.setString(3, name);
                    ps.setInt(4, slots);
                    ps.setString(5, labelsJson);
                    ps.setArray(6, tx.array("text", actions));
                    ps.setString(7, sdk);
                });
    }

    /** Records a heartbeat; false when the worker is unknown (never registered or pruned). */
    public boolean heartbeat(StoreTx tx, UUID id) {
        return tx.update("UPDATE drover_worker SET last_heartbeat_at = now() WHERE id = ?", ps -> ps.setObject(1, id)) == 1;
    }

    /** Forgets workers silent for longer than the given time; their leases expire on their own. */
    public int deleteSilent(StoreTx tx, long silentForMs) {
        return tx.update("DELETE FROM drover_worker WHERE last_heartbeat_at < now() - ? * interval '1 millisecond'",
                ps -> ps.setLong(1, silentForMs));
    }
}
