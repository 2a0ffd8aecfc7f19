import type { Json } from '../model/genai.js';

/** Token usage as the API shows it, for a span or summed over a trace. */
export interface TokenUsageView {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface AssessmentView {
  assessment_id: string;
  trace_id: string;
  span_id: string | null;
  name: string;
  kind: string;
  value: Json;
  rationale: string;
  source: { source_type: string; source_id: string };
  error: string | null;
  metadata: Record<string, string>;
  create_time: string;
  last_update_time: string;
  valid: boolean;
  overrides: string | null;
}

/** A trace summary, with MLflow TraceInfo's field names plus tracehouse's own. */
export interface TraceInfoView {
  trace_id: string;
  project: string;
  name: string;
  request_time: string;
  timestamp_ms: number;
  execution_duration: string;
  execution_time_ms: number;
  state: 'OK' | 'ERROR' | 'IN_PROGRESS';
  request_preview: string;
  response_preview: string;
  service_name: string;
  session_id: string;
  user_id: string;
  tags: Record<string, string>;
  trace_metadata: Record<string, string>;
  token_usage: TokenUsageView;
  models: string[];
  span_count: number;
  /** Latest valid value per assessment name (feedback and expectations). */
  assessments: Record<string, Json>;
}

export interface SpanView {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  span_type: string;
  kind: string;
  start_time_ns: string;
  end_time_ns: string;
  status: { code: 'OK' | 'ERROR' | 'UNSET'; message: string };
  inputs: Json | null;
  outputs: Json | null;
  model: string | null;
  provider: string | null;
  token_usage: TokenUsageView | null;
  cost: number | null;
  session_id: string | null;
  user_id: string | null;
  documents: Array<{ id: string | null; content: string | null; score: number | null; uri: string | null }>;
  tool: { name: string; arguments: Json; result: Json } | null;
  attributes: Record<string, Json>;
  resource_attributes: Record<string, string>;
  events: Array<{ name: string; time_ns: string; attributes: Record<string, Json>; source: 'span' | 'log' }>;
  children?: SpanView[];
}

export interface TraceDetailView {
  info: TraceInfoView;
  spans: SpanView[];
  assessments: AssessmentView[];
}

/** Parses stored JSON text; '' is absent (null). Text that is not JSON is returned as it is. */
export function parseStored(text: string): Json | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

export function nsToIso(ns: string | bigint): string {
  const n = BigInt(ns);
  const ms = n / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  // Keep sub-millisecond precision the way protobuf JSON Timestamps do.
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac.length > 3 ? iso.replace(/\.\d{3}Z$/, `.${frac}Z`) : iso;
}

/** The inverse of nsToIso: nanoseconds from an ISO 8601 UTC time with up to nine fraction digits. */
export function isoToNs(iso: string): bigint {
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(iso);
  const seconds = Date.parse(`${m?.[1] ?? iso}Z`);
  if (!m || Number.isNaN(seconds)) throw new Error(`not an ISO 8601 UTC time: ${iso}`);
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** protobuf JSON Duration form ("1.5s"), as MLflow's REST API renders execution_duration. */
export function nsToDuration(ns: string | bigint): string {
  const n = BigInt(ns);
  const s = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${s}.${frac}s` : `${s}s`;
}
