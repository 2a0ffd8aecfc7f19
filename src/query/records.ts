/**
 * What the store holds about a trace, as the query layer reads it back: stored JSON parsed, times in
 * nanoseconds (bigint), assessments as the records writers hand in. The evaluator scores these; the API
 * maps them to its own view types (src/api/views.ts).
 */
import type { AssessmentRecord } from '../assessments/model.js';
import type { SpanRow, TraceRow } from '../exporters/clickhouse/tables.js';
import type { Json, NormalizedSpan } from '../model/genai.js';

/** Token usage summed over a trace (spans covered by an ancestor that reports usage are not counted twice). */
export interface TokenTotals {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** A trace's summary: its `traces` row, with what only its spans and assessments know. */
export interface TraceInfoRecord {
  traceId: string;
  project: string;
  name: string;
  requestTimeNs: bigint;
  executionDurationNs: bigint;
  state: TraceRow['state'];
  requestPreview: string;
  responsePreview: string;
  serviceName: string;
  /** The root's session, user, tags and metadata win, then those of spans nearer the root; '' or {} when none. */
  sessionId: string;
  userId: string;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  tokenUsage: TokenTotals;
  models: string[];
  spanCount: number;
  /** Latest valid value per assessment name (feedback and expectations). */
  assessments: Record<string, Json>;
}

/** An event the span itself carried. Its time is kept as the exporter sent it: span event times are not validated on receipt. */
export interface SpanEventRecord {
  name: string;
  timeNs: string;
  attributes: Record<string, Json>;
}

/** A span as stored: the normalized fields, payloads parsed. Empty strings mean absent, as in the table. */
/** The normalized fields (model, usage, documents, tool, …) are stored as `normalize/` made them. */
export interface SpanRecord extends Pick<NormalizedSpan, 'model' | 'provider' | 'usage' | 'cost' | 'sessionId' | 'userId' | 'documents' | 'tool'> {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: string;
  spanType: string;
  startTimeNs: bigint;
  endTimeNs: bigint;
  status: { code: SpanRow['status_code']; message: string };
  /**
   * null when absent. When the span's attributes carry none, the messages of its GenAI events sent as
   * OTLP log records (the trace's `events`) fill them in.
   */
  inputs: Json | null;
  outputs: Json | null;
  /** Attribute values with their JSON types back (the table keeps non-strings as JSON text). */
  attributes: Record<string, Json>;
  resourceAttributes: Record<string, string>;
  events: SpanEventRecord[];
}

/** An OTLP log record of the trace (GenAI events among them), from the `events` table. */
export interface LogEventRecord {
  spanId: string;
  timeNs: bigint;
  name: string;
  /** null when the record has no body. */
  body: Json | null;
  attributes: Record<string, Json>;
}

/** A whole trace: summary, spans (in start order), log records (in time order) and current assessments. */
export interface TraceRecord {
  info: TraceInfoRecord;
  spans: SpanRecord[];
  events: LogEventRecord[];
  assessments: AssessmentRecord[];
}
