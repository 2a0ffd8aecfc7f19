/**
 * tracehouse's records in MLflow's REST shapes (proto JSON, snake_case): TraceInfoV3, OTel spans as
 * `mlflow.entities.Span.from_otel_proto` parses them, assessments. 64-bit nanosecond times go as decimal
 * strings (protobuf's JSON form; a JSON number would lose precision past 2^53).
 */
import type { AssessmentRecord } from '../../assessments/model.js';
import type { Json } from '../../model/genai.js';
import type { SpanRecord, TraceInfoRecord } from '../../query/records.js';
import { nsToDuration, nsToIso } from '../views.js';
import { mlflowTraceId } from './ids.js';

export const SPANS_LOCATION_TAG = 'mlflow.trace.spansLocation';
export const SESSION_KEY = 'mlflow.trace.session';
export const USER_KEY = 'mlflow.trace.user';

export type ProtoAnyValue =
  | Record<string, never>
  | { string_value: string }
  | { bool_value: boolean }
  | { int_value: string }
  | { double_value: number }
  | { array_value: { values: ProtoAnyValue[] } }
  | { kvlist_value: { values: Array<{ key: string; value: ProtoAnyValue }> } };

export function anyValue(v: Json): ProtoAnyValue {
  // An AnyValue with nothing set is what MLflow's client reads back as None.
  if (v === null) return {};
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int_value: String(v) } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map(anyValue) } };
  return { kvlist_value: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) } };
}

/**
 * MLflow writes every attribute as JSON text, and its client decodes a REST span's typed values and
 * re-encodes them: so a stored JSON text goes out as the value it encodes (a dict as a kvlist, a string
 * as a string), and anything that is not JSON as the string it is.
 */
export function attributeValue(v: Json): ProtoAnyValue {
  if (typeof v === 'string') {
    try {
      return anyValue(JSON.parse(v) as Json);
    } catch {
      return { string_value: v };
    }
  }
  return anyValue(v);
}

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

const STATUS = { OK: 'STATUS_CODE_OK', ERROR: 'STATUS_CODE_ERROR', UNSET: 'STATUS_CODE_UNSET' } as const;

export function spanJson(s: SpanRecord): Record<string, unknown> {
  return {
    trace_id: b64(s.traceId),
    span_id: b64(s.spanId),
    ...(s.parentSpanId ? { parent_span_id: b64(s.parentSpanId) } : {}),
    name: s.name,
    kind: `SPAN_KIND_${s.kind || 'UNSPECIFIED'}`,
    start_time_unix_nano: s.startTimeNs.toString(),
    end_time_unix_nano: s.endTimeNs.toString(),
    attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: attributeValue(v) })),
    events: s.events.map((e) => ({
      time_unix_nano: e.timeNs,
      name: e.name,
      attributes: Object.entries(e.attributes).map(([key, v]) => ({ key, value: attributeValue(v) })),
    })),
    status: { code: STATUS[s.status.code], ...(s.status.message ? { message: s.status.message } : {}) },
  };
}

const isScalar = (v: Json): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** An error kept as "CODE: message" (as MLflow's feedback errors come in) back as MLflow's error object. */
function feedbackError(error: string): { error_code: string; error_message: string } {
  const m = /^([A-Za-z][A-Za-z0-9_.]*): ([\s\S]*)$/.exec(error);
  return m ? { error_code: m[1] as string, error_message: m[2] as string } : { error_code: 'ASSESSMENT_ERROR', error_message: error };
}

export function assessmentJson(a: AssessmentRecord): Record<string, unknown> {
  const value =
    a.kind === 'expectation'
      ? {
          expectation: isScalar(a.value) ? { value: a.value } : { serialized_value: { serialization_format: 'JSON_FORMAT', value: JSON.stringify(a.value) } },
        }
      : { feedback: { value: a.value, ...(a.error ? { error: feedbackError(a.error) } : {}) } };
  return {
    assessment_id: a.assessmentId,
    assessment_name: a.name,
    trace_id: mlflowTraceId(a.traceId),
    ...(a.spanId ? { span_id: a.spanId } : {}),
    source: { source_type: a.sourceType, source_id: a.sourceId },
    create_time: nsToIso(a.createdTimeNs),
    last_update_time: nsToIso(a.lastUpdatedTimeNs),
    ...value,
    ...(a.rationale ? { rationale: a.rationale } : {}),
    metadata: a.metadata,
    ...(a.overrides ? { overrides: a.overrides } : {}),
    valid: a.valid,
  };
}

/** TraceInfoV3 of a stored trace; its tags say the spans are in the tracking store, so clients read them here. */
export function traceInfoJson(info: TraceInfoRecord, experimentId: string, assessments: readonly AssessmentRecord[]): Record<string, unknown> {
  const metadata: Record<string, string> = { 'mlflow.trace_schema.version': '3', ...info.metadata };
  if (info.sessionId && metadata[SESSION_KEY] === undefined) metadata[SESSION_KEY] = info.sessionId;
  if (info.userId && metadata[USER_KEY] === undefined) metadata[USER_KEY] = info.userId;
  const tags: Record<string, string> = { ...info.tags, [SPANS_LOCATION_TAG]: 'TRACKING_STORE' };
  if (info.name && tags['mlflow.traceName'] === undefined) tags['mlflow.traceName'] = info.name;
  return {
    trace_id: mlflowTraceId(info.traceId),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
    request_time: nsToIso(info.requestTimeNs),
    ...(info.state === 'IN_PROGRESS' ? {} : { execution_duration: nsToDuration(info.executionDurationNs) }),
    state: info.state,
    trace_metadata: metadata,
    tags,
    assessments: assessments.map(assessmentJson),
    request_preview: info.requestPreview,
    response_preview: info.responsePreview,
  };
}
