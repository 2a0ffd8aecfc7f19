import type { ClickHouseClient } from '@clickhouse/client';
import type { Json } from '../model/genai.js';
import type { AssessmentRecord } from './model.js';
import type { StoredAssessmentRow } from '../exporters/clickhouse/tables.js';

/** The `assessments` columns read back (COLUMNS). */
type SelectedRow = Omit<StoredAssessmentRow, 'project' | 'value_text'>;

const COLUMNS =
  'trace_id, assessment_id, version, span_id, name, kind, value, rationale, source_type, source_id, error, metadata, created_time_ns, last_updated_time_ns, valid, deleted, overrides';

/** A stored version, as read back (64-bit integers arrive quoted), as the record writers hand in. */
export function toRecord(project: string, r: SelectedRow): AssessmentRecord {
  return {
    project,
    traceId: r.trace_id,
    assessmentId: r.assessment_id,
    version: BigInt(r.version),
    spanId: r.span_id,
    name: r.name,
    kind: r.kind as AssessmentRecord['kind'],
    value: JSON.parse(r.value) as Json,
    rationale: r.rationale,
    sourceType: r.source_type as AssessmentRecord['sourceType'],
    sourceId: r.source_id,
    error: r.error,
    metadata: r.metadata,
    createdTimeNs: BigInt(r.created_time_ns),
    lastUpdatedTimeNs: BigInt(r.last_updated_time_ns),
    valid: Number(r.valid) === 1,
    deleted: Number(r.deleted) === 1,
    overrides: r.overrides,
  };
}

/** A row of currentAssessmentsSql, as JSONEachRow gives it. */
export type CurrentAssessmentRow = SelectedRow;

/**
 * The current version of every assessment of the traces `ids` (an SQL array or subquery; the project is
 * {project:String}), deleted ones left out, oldest first. A reader may run it inside a larger statement.
 */
export function currentAssessmentsSql(ids: string): string {
  return `SELECT * FROM (
              SELECT ${COLUMNS}
              FROM assessments WHERE project = {project:String} AND trace_id IN ${ids}
              ORDER BY assessment_id, version DESC LIMIT 1 BY assessment_id)
            WHERE deleted = 0 ORDER BY created_time_ns`;
}

/** The current version of every assessment of the given traces (deleted ones left out), oldest first. */
export async function readAssessments(client: ClickHouseClient, project: string, traceIds: string[]): Promise<AssessmentRecord[]> {
  if (traceIds.length === 0) return [];
  const rs = await client.query({
    query: currentAssessmentsSql('{ids:Array(String)}'),
    query_params: { project, ids: traceIds },
    format: 'JSONEachRow',
  });
  return (await rs.json<SelectedRow>()).map((r) => toRecord(project, r));
}

/** Every stored version of one assessment, oldest first. */
export async function readAssessmentHistory(client: ClickHouseClient, project: string, traceId: string, assessmentId: string): Promise<AssessmentRecord[]> {
  const rs = await client.query({
    query: `SELECT ${COLUMNS} FROM assessments
            WHERE project = {project:String} AND trace_id = {trace:String} AND assessment_id = {id:String}
            ORDER BY version LIMIT 1 BY version`,
    query_params: { project, trace: traceId, id: assessmentId },
    format: 'JSONEachRow',
  });
  return (await rs.json<SelectedRow>()).map((r) => toRecord(project, r));
}

/** A row of assessmentSummarySql, as JSONEachRow gives it. */
export interface AssessmentSummaryRow {
  trace_id: string;
  name: string;
  value: string;
}

/**
 * summarizeAssessments in SQL, for a page of traces (`ids` as in currentAssessmentsSql): it reads the 8
 * columns the summary needs instead of all 17, and chDB's cost of a read grows with its columns.
 */
export function assessmentSummarySql(ids: string): string {
  return `SELECT trace_id, name, argMax(value, created_time_ns) AS value FROM (
              SELECT trace_id, name, value, created_time_ns, valid, deleted
              FROM assessments WHERE project = {project:String} AND trace_id IN ${ids}
              ORDER BY assessment_id, version DESC LIMIT 1 BY assessment_id)
            WHERE deleted = 0 AND valid = 1 GROUP BY trace_id, name`;
}

/** assessmentSummarySql's rows as summarizeAssessments gives them. */
export function foldAssessmentSummary(rows: readonly AssessmentSummaryRow[]): Map<string, Record<string, Json>> {
  const out = new Map<string, Record<string, Json>>();
  for (const r of rows) {
    let summary = out.get(r.trace_id);
    if (!summary) out.set(r.trace_id, (summary = {}));
    summary[r.name] = JSON.parse(r.value) as Json;
  }
  return out;
}

/** Latest valid value per assessment name, per trace: the summary a trace list shows. */
export function summarizeAssessments(records: readonly AssessmentRecord[]): Map<string, Record<string, Json>> {
  const out = new Map<string, Record<string, Json>>();
  const newest = new Map<string, bigint>();
  for (const r of records) {
    if (!r.valid) continue;
    const key = `${r.traceId}\u0000${r.name}`;
    if ((newest.get(key) ?? -1n) > r.createdTimeNs) continue;
    newest.set(key, r.createdTimeNs);
    let summary = out.get(r.traceId);
    if (!summary) out.set(r.traceId, (summary = {}));
    summary[r.name] = r.value;
  }
  return out;
}
