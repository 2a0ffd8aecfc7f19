import type { Json } from '../model/genai.js';
import type { AssessmentRow } from '../exporters/clickhouse/tables.js';

export const ASSESSMENT_KINDS = ['feedback', 'expectation'] as const;
export type AssessmentKind = (typeof ASSESSMENT_KINDS)[number];
export const SOURCE_TYPES = ['HUMAN', 'CODE', 'LLM_JUDGE'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** One version of an assessment, as every writer (API, evaluator) hands it to the store. */
export interface AssessmentRecord {
  project: string;
  traceId: string;
  assessmentId: string;
  /** Higher wins; every change is a new version, the old ones stay as history. */
  version: bigint;
  spanId: string;
  name: string;
  kind: AssessmentKind;
  value: Json;
  rationale: string;
  sourceType: SourceType;
  sourceId: string;
  error: string;
  metadata: Record<string, string>;
  createdTimeNs: bigint;
  lastUpdatedTimeNs: bigint;
  valid: boolean;
  deleted: boolean;
  /** Id of the assessment this one replaces (override), or ''. */
  overrides: string;
}

/** The text form search filters compare: strings as they are, other values as JSON. */
export function valueText(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Row for the `assessments` table. */
export function assessmentRow(a: AssessmentRecord): AssessmentRow {
  return {
    project: a.project,
    trace_id: a.traceId,
    assessment_id: a.assessmentId,
    version: a.version.toString(),
    span_id: a.spanId,
    name: a.name,
    kind: a.kind,
    value: JSON.stringify(a.value),
    value_text: valueText(a.value),
    rationale: a.rationale,
    source_type: a.sourceType,
    source_id: a.sourceId,
    error: a.error,
    metadata: a.metadata,
    created_time_ns: a.createdTimeNs.toString(),
    last_updated_time_ns: a.lastUpdatedTimeNs.toString(),
    valid: a.valid ? 1 : 0,
    deleted: a.deleted ? 1 : 0,
    overrides: a.overrides,
  };
}

let lastNs = 0n;
/** Wall-clock nanoseconds, strictly increasing within the process so versions never tie. */
export function nowNs(): bigint {
  const t = BigInt(Date.now()) * 1_000_000n;
  lastNs = t > lastNs ? t : lastNs + 1n;
  return lastNs;
}
