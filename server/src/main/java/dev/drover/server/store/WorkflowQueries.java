package dev.drover.server.store;

import java.util.List;
import java.util.Optional;

/** SQL of drover_workflow: registered workflow definitions, one row per (tenant, name, version). */
public final class WorkflowQueries {

    public record WorkflowRow(String name, String version, byte[] definition) {}

    public void upsert(StoreTx tx, String tenantId, String name, String version, byte[] definition) {
        tx.update("""
                INSERT INTO drover_workflow (tenant_id, name, version, definition) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, name, version)
                DO UPDATE SET definition = excluded.definition, updated_at = now()
                WHERE drover_workflow.definition IS DISTINCT FROM excluded.definition""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setString(3, version);
                    ps.setBytes(4, definition);
                });
    }

    /** The most recently created version of a workflow. */
    public Optional<WorkflowRow> latest(StoreTx tx, String tenantId, String name) {
        return tx.query("""
                SELECT name, version, definition FROM drover_workflow
                WHERE tenant_id = ? AND name = ? ORDER BY created_at DESC, version DESC LIMIT 1""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                },
                rs -> new WorkflowRow(rs.getString(1), rs.getString(2), rs.getBytes(3))).stream().findFirst();
    }

    public Optional<WorkflowRow> get(StoreTx tx, String tenantId, String name, String version) {
        return tx.query("SELECT name, version, definition FROM drover_workflow WHERE tenant_id = ? AND name = ? AND version = ?",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setString(3, version);
                },
                rs -> new WorkflowRow(rs.getString(1), rs.getString(2), rs.getBytes(3))).stream().findFirst();
    }

    public List<WorkflowRow> all(StoreTx tx, String tenantId) {
        return tx.query("SELECT name, version, definition FROM drover_workflow WHERE tenant_id = ? ORDER BY name, created_at",
                ps -> ps.setString(1, tenantId),
                rs -> new WorkflowRow(rs.getString(1), rs.getString(2), rs.getBytes(3)));
    }
}
