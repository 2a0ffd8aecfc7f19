/**
 * One row type per table of schema.ts, in the shape JSONEachRow inserts it. Readers derive what they
 * get back with `Stored` (and pick the columns they select), so a column changes in one place.
 */

/** One row of the `spans` table. */
export interface SpanRow {
  project: string;
  trace_id: string;
  span_id: string;
  /** '' for a root span. */
  parent_span_id: string;
  name: string;
  kind: string;
  span_type: string;
  start_time_ns: string;
  end_time_ns: string;
  status_code: 'UNSET' | 'OK' | 'ERROR';
  status_message: string;
  service_name: string;
  scope_name: string;
  scope_version: string;
  model: string;
  provider: string;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cache_read_tokens: number | null;
  reasoning_tokens: number | null;
  cost: number | null;
  session_id: string;
  user_id: string;
  /** JSON text; '' when absent (as for every payload column). */
  inputs: string;
  outputs: string;
  documents: string;
  tool_name: string;
  tool_arguments: string;
  tool_result: string;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  attributes: Record<string, string>;
  resource_attributes: Record<string, string>;
  /** The span's own events as JSON text: [{ name, time_ns, attributes }]. */
  events: string;
  links: string;
}

/** The `traces` versions: the row built from the root span wins over IN_PROGRESS placeholders. */
export const TRACE_ROW_VERSION = { placeholder: 1, root: 2 } as const;

/** One row of the `traces` table: the summary a search lists. */
export interface TraceRow {
  project: string;
  trace_id: string;
  version: (typeof TRACE_ROW_VERSION)[keyof typeof TRACE_ROW_VERSION];
  request_time_ns: string;
  execution_duration_ns: string;
  state: 'OK' | 'ERROR' | 'IN_PROGRESS';
  name: string;
  root_span_id: string;
  service_name: string;
  request_preview: string;
  response_preview: string;
}

/** One row of the `events` table: an OTLP log record (GenAI events among them). */
export interface EventRow {
  project: string;
  trace_id: string;
  span_id: string;
  time_ns: string;
  event_id: string;
  event_name: string;
  severity_number: number;
  severity_text: string;
  service_name: string;
  /** JSON text; '' when the record has no body. */
  body: string;
  attributes: Record<string, string>;
  resource_attributes: Record<string, string>;
}

/** One row of the `assessments` table: one version of an assessment. */
export interface AssessmentRow {
  project: string;
  trace_id: string;
  assessment_id: string;
  version: string;
  span_id: string;
  name: string;
  kind: string;
  /** JSON text of the value. */
  value: string;
  /** The value as search filters compare it. */
  value_text: string;
  rationale: string;
  source_type: string;
  source_id: string;
  error: string;
  metadata: Record<string, string>;
  created_time_ns: string;
  last_updated_time_ns: string;
  valid: 0 | 1;
  deleted: 0 | 1;
  overrides: string;
}

/** A 64-bit integer column as read back: the session quotes them (output_format_json_quote_64bit_integers). */
type Quoted<T> = T extends number ? string : T;

/**
 * A row as JSONEachRow reads it back. `Int64` names the columns that hold 64-bit integers the insert
 * shape gives as numbers; the ones it already gives as strings (the `_ns` times) read back unchanged.
 */
export type Stored<R, Int64 extends keyof R = never> = { [K in keyof R]: K extends Int64 ? Quoted<R[K]> : R[K] };

/** A `spans` row as read back: the token counts (Nullable(UInt64)) arrive quoted. */
export type StoredSpanRow = Stored<SpanRow, 'input_tokens' | 'output_tokens' | 'total_tokens' | 'cache_read_tokens' | 'reasoning_tokens'>;
export type StoredTraceRow = Stored<TraceRow>;
export type StoredEventRow = Stored<EventRow>;
export type StoredAssessmentRow = Stored<AssessmentRow>;

/** The span columns an IN_PROGRESS placeholder is made of. */
export type PlaceholderSource = Pick<SpanRow, 'project' | 'trace_id' | 'start_time_ns' | 'service_name'>;

/** Whichever of two spans started first (the first one on a tie). */
export function earlierSpan<S extends Pick<SpanRow, 'start_time_ns'>>(a: S, b: S): S {
  return BigInt(b.start_time_ns) < BigInt(a.start_time_ns) ? b : a;
}

/**
 * The summary of a trace whose root span is not known: IN_PROGRESS, starting at the earliest span
 * known. The writer stores it for a batch without the root; the reader makes it for spans whose trace
 * has no summary row at all. The root's row (a higher version) wins over it wherever both exist.
 */
export function placeholderTraceRow(earliest: PlaceholderSource): TraceRow {
  return {
    project: earliest.project,
    trace_id: earliest.trace_id,
    version: TRACE_ROW_VERSION.placeholder,
    request_time_ns: earliest.start_time_ns,
    execution_duration_ns: '0',
    state: 'IN_PROGRESS',
    name: '',
    root_span_id: '',
    service_name: earliest.service_name,
    request_preview: '',
    response_preview: '',
  };
}

/** The trace-level fields `trace_meta` keeps, one key each. */
export const TRACE_META_FIELDS = ['tag', 'metadata', 'session_id', 'user_id', 'run'] as const;
export type TraceMetaField = (typeof TRACE_META_FIELDS)[number];

/** One row of the `trace_meta` table: one version of one trace-level key (a tag, a metadata key, the session…). */
export interface TraceMetaRow {
  project: string;
  trace_id: string;
  field: TraceMetaField;
  /** The tag or metadata key; '' for session_id and user_id; the run id for run. */
  key: string;
  value: string;
  version: string;
  deleted: 0 | 1;
}

/** One row of the `experiments` table. */
export interface ExperimentRow {
  experiment_id: string;
  name: string;
  artifact_location: string;
  tags: Record<string, string>;
  creation_time_ms: string;
  version: string;
}

/** One row of the `runs` table: a run's whole record as JSON. */
export interface RunRow {
  run_id: string;
  experiment_id: string;
  doc: string;
  version: string;
}
