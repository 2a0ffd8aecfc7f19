import type { ClickHouseClient } from '@clickhouse/client';
import type { TraceMetaField } from '../exporters/clickhouse/tables.js';

/** Trace-level fields set beside the spans (by MLflow's client): they win over what the spans say. */
export interface TraceMeta {
  tags: Record<string, string>;
  metadata: Record<string, string>;
  sessionId: string;
  userId: string;
  /** Runs the trace was linked to (MLflow's link-to-run). */
  runs: string[];
}

export const emptyTraceMeta = (): TraceMeta => ({ tags: {}, metadata: {}, sessionId: '', userId: '', runs: [] });

/** A row of traceMetaSql, as JSONEachRow gives it. */
export interface TraceMetaRow {
  trace_id: string;
  field: TraceMetaField;
  key: string;
  value: string;
  deleted: number | string;
}

/** The current value of every trace-level key of the traces `ids` (an SQL array or subquery; the project is {project:String}). */
export function traceMetaSql(ids: string): string {
  return `SELECT trace_id, field, key, argMax(value, version) AS value, argMax(deleted, version) AS deleted
            FROM trace_meta WHERE project = {project:String} AND trace_id IN ${ids}
            GROUP BY trace_id, field, key`;
}

/** Folds traceMetaSql's rows into one TraceMeta per trace (deleted keys left out). */
export function foldTraceMeta(rows: readonly TraceMetaRow[]): Map<string, TraceMeta> {
  const out = new Map<string, TraceMeta>();
  for (const r of rows) {
    if (Number(r.deleted) === 1) continue;
    let m = out.get(r.trace_id);
    if (!m) out.set(r.trace_id, (m = emptyTraceMeta()));
    if (r.field === 'tag') m.tags[r.key] = r.value;
    else if (r.field === 'metadata') m.metadata[r.key] = r.value;
    else if (r.field === 'session_id') m.sessionId = r.value;
    else if (r.field === 'user_id') m.userId = r.value;
    else if (r.field === 'run') m.runs.push(r.key);
  }
  return out;
}

/** The current value of every trace-level key of these traces (deleted keys left out). */
export async function readTraceMeta(client: ClickHouseClient, project: string, traceIds: readonly string[]): Promise<Map<string, TraceMeta>> {
  if (traceIds.length === 0) return new Map();
  const rs = await client.query({ query: traceMetaSql('{ids:Array(String)}'), query_params: { project, ids: traceIds }, format: 'JSONEachRow' });
  return foldTraceMeta(await rs.json<TraceMetaRow>());
}

/** Trace ids linked to a run, or whose metadata names it as their source run. */
export async function tracesOfRun(client: ClickHouseClient, project: string, runId: string): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT trace_id FROM (
              SELECT trace_id, field, key, argMax(value, version) AS value, argMax(deleted, version) AS deleted
              FROM trace_meta WHERE project = {project:String} AND field IN ('run', 'metadata')
              GROUP BY trace_id, field, key)
            WHERE deleted = 0 AND ((field = 'run' AND key = {run:String}) OR (field = 'metadata' AND key = 'mlflow.sourceRun' AND value = {run:String}))
            GROUP BY trace_id`,
    query_params: { project, run: runId },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ trace_id: string }>()).map((r) => r.trace_id);
}
