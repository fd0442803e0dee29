package dev.drover.server.engine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.Database;
import dev.drover.server.store.WorkflowQueries;
import dev.drover.server.store.WorkflowQueries.WorkflowRow;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Registered workflow definitions. Versions are immutable once used by runs in spirit: a worker that
 * registers a changed definition under the same version replaces it (useful in development); runs that
 * already started keep their step rows, and the DAG used to advance them is the current one.
 */
public final class WorkflowCatalog {
    private final Database db;
    private final WorkflowQueries queries = new WorkflowQueries();
    private final Map<String, Dag> byVersion = new ConcurrentHashMap<>();
    private final Map<String, Dag> latest = new ConcurrentHashMap<>();

    public WorkflowCatalog(Database db) {
        this.db = db;
    }

    public Dag register(String tenantId, WorkflowDefinition def) {
        Dag dag = Dag.of(def);
        db.inTx(tx -> {
            queries.upsert(tx, tenantId, def.getName(), def.getVersion(), def.toByteArray());
            Events.registered(tx, tenantId, def);
            Schedules.syncDeclared(tx, tenantId, def);
            return null;
        });
        byVersion.put(key(tenantId, def.getName(), def.getVersion()), dag);
        latest.remove(tenantId + "\u0000" + def.getName());
        return dag;
    }

    /** The workflow if it is known here without a read; null otherwise (or for a null name). */
    public Dag cached(String tenantId, String name, String version) {
        if (name == null) return null;
        return version == null || version.isEmpty() ? latest.get(tenantId + "\u0000" + name)
                : byVersion.get(key(tenantId, name, version));
    }

    /** The named version, or the latest one when version is empty; NOT_FOUND when unknown. */
    public Dag resolve(String tenantId, String name, String version) {
        if (version == null || version.isEmpty()) {
            Dag cached = latest.get(tenantId + "\u0000" + name);
            if (cached != null) return cached;
            Optional<WorkflowRow> row = db.inTx(tx -> queries.latest(tx, tenantId, name));
            Dag dag = parse(row.orElseThrow(() -> EngineException.notFound(
                    "workflow_name: no workflow named '" + Text.clip(name, 100) + "' is registered (start a worker that registers it)")));
            latest.put(tenantId + "\u0000" + name, dag);
            byVersion.putIfAbsent(key(tenantId, name, dag.version()), dag);
            return dag;
        }
        Dag cached = byVersion.get(key(tenantId, name, version));
        if (cached != null) return cached;
        Optional<WorkflowRow> row = db.inTx(tx -> queries.get(tx, tenantId, name, version));
        Dag dag = parse(row.orElseThrow(() -> EngineException.notFound(
                "workflow_version: workflow '" + Text.clip(name, 100) + "' has no version '" + Text.clip(version, 100) + "'")));
        byVersion.put(key(tenantId, name, version), dag);
        return dag;
    }

    public List<WorkflowDefinition> all(String tenantId) {
        return db.inTx(tx -> queries.all(tx, tenantId)).stream().map(r -> parse(r).definition()).toList();
    }

    private static Dag parse(WorkflowRow row) {
        try {
            return Dag.of(WorkflowDefinition.parseFrom(row.definition()));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored definition of " + row.name() + "@" + row.version() + " is corrupt", e);
        }
    }

    private static String key(String tenantId, String name, String version) {
        return tenantId + "\u0000" + name + "\u0000" + version;
    }
}
