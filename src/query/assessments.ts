import type { ClickHouseClient } from '@clickhouse/client';
import type { Json } from '../model/genai.js';
import { nsToIso, parseStored, type AssessmentView } from './views.js';

export interface AssessmentRow {
  trace_id: string;
  assessment_id: string;
  version: string;
  span_id: string;
  name: string;
  kind: string;
  value: string;
  rationale: string;
  source_type: string;
  source_id: string;
  error: string;
  metadata: Record<string, string>;
  created_time_ns: string;
  last_updated_time_ns: string;
  valid: number;
  deleted: number;
  overrides: string;
}

/** The current version of every assessment of the given traces (deleted ones left out). */
export async function readAssessments(client: ClickHouseClient, project: string, traceIds: string[]): Promise<AssessmentRow[]> {
  if (traceIds.length === 0) return [];
  const rs = await client.query({
    query: `SELECT * FROM (
              SELECT trace_id, assessment_id, version, span_id, name, kind, value, rationale, source_type, source_id,
                     error, metadata, created_time_ns, last_updated_time_ns, valid, deleted, overrides
              FROM assessments WHERE project = {project:String} AND trace_id IN {ids:Array(String)}
              ORDER BY assessment_id, version DESC LIMIT 1 BY assessment_id)
            WHERE deleted = 0 ORDER BY created_time_ns`,
    query_params: { project, ids: traceIds },
    format: 'JSONEachRow',
  });
  return rs.json<AssessmentRow>();
}

export function assessmentView(r: AssessmentRow): AssessmentView {
  return {
    assessment_id: r.assessment_id,
    trace_id: r.trace_id,
    span_id: r.span_id || null,
    name: r.name,
    kind: r.kind,
    value: parseStored(r.value),
    rationale: r.rationale,
    source: { source_type: r.source_type, source_id: r.source_id },
    error: r.error || null,
    metadata: r.metadata,
    create_time: nsToIso(r.created_time_ns),
    last_update_time: nsToIso(r.last_updated_time_ns),
    valid: Number(r.valid) === 1,
    overrides: r.overrides || null,
  };
}

/** Latest valid value per assessment name, per trace: the summary a trace list shows. */
export function summarizeAssessments(rows: readonly AssessmentRow[]): Map<string, Record<string, Json>> {
  const out = new Map<string, Record<string, Json>>();
  const newest = new Map<string, bigint>();
  for (const r of rows) {
    if (Number(r.valid) !== 1) continue;
    const key = `${r.trace_id}\u0000${r.name}`;
    const t = BigInt(r.created_time_ns);
    if ((newest.get(key) ?? -1n) > t) continue;
    newest.set(key, t);
    let summary = out.get(r.trace_id);
    if (!summary) out.set(r.trace_id, (summary = {}));
    summary[r.name] = parseStored(r.value);
  }
  return out;
}
