/**
 * The API's shapes (MLflow's field names plus tracehouse's own) and the mapping from the store's records
 * to them. Only src/api/ (and the CLI, which reads the API) use these.
 */
import type { AssessmentRecord } from '../assessments/model.js';
import type { Json } from '../model/genai.js';
import type { StatsBucket } from '../assessments/stats.js';
import type { LogEventRecord, SpanRecord, TokenTotals, TraceInfoRecord, TraceRecord } from '../query/records.js';

/** Token usage as the API shows it, for a span or summed over a trace. */
export type TokenUsageView = TokenTotals;

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

/** The inverse of nsToDuration. */
export function durationToNs(duration: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(duration);
  if (!m) throw new Error(`not a protobuf JSON duration: ${duration}`);
  return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Quality over time, one bucket as the API answers it. */
export type StatsBucketView = { start: string } & Omit<StatsBucket, 'startNs'>;

export function statsBucketView({ startNs, ...rest }: StatsBucket): StatsBucketView {
  return { start: nsToIso(startNs), ...rest };
}

export function assessmentView(a: AssessmentRecord): AssessmentView {
  return {
    assessment_id: a.assessmentId,
    trace_id: a.traceId,
    span_id: a.spanId || null,
    name: a.name,
    kind: a.kind,
    value: a.value,
    rationale: a.rationale,
    source: { source_type: a.sourceType, source_id: a.sourceId },
    error: a.error || null,
    metadata: a.metadata,
    create_time: nsToIso(a.createdTimeNs),
    last_update_time: nsToIso(a.lastUpdatedTimeNs),
    valid: a.valid,
    overrides: a.overrides || null,
  };
}

export function traceInfoView(r: TraceInfoRecord): TraceInfoView {
  return {
    trace_id: r.traceId,
    project: r.project,
    name: r.name,
    request_time: nsToIso(r.requestTimeNs),
    timestamp_ms: Number(r.requestTimeNs / 1_000_000n),
    execution_duration: nsToDuration(r.executionDurationNs),
    execution_time_ms: Number(r.executionDurationNs / 1_000_000n),
    state: r.state,
    request_preview: r.requestPreview,
    response_preview: r.responsePreview,
    service_name: r.serviceName,
    session_id: r.sessionId,
    user_id: r.userId,
    tags: r.tags,
    trace_metadata: r.metadata,
    token_usage: r.tokenUsage,
    models: r.models,
    span_count: r.spanCount,
    assessments: r.assessments,
  };
}

function usageView(u: SpanRecord['usage']): TokenUsageView | null {
  if (u === null || (u.input_tokens === null && u.output_tokens === null && u.total_tokens === null)) return null;
  const input = u.input_tokens ?? 0;
  const output = u.output_tokens ?? 0;
  return { input_tokens: input, output_tokens: output, total_tokens: u.total_tokens ?? input + output };
}

/** A span with its own events and then its log records (the body among the attributes). */
function spanView(s: SpanRecord, logs: readonly LogEventRecord[]): SpanView {
  return {
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId || null,
    name: s.name,
    span_type: s.spanType,
    kind: s.kind,
    start_time_ns: s.startTimeNs.toString(),
    end_time_ns: s.endTimeNs.toString(),
    status: { code: s.status.code, message: s.status.message },
    inputs: s.inputs,
    outputs: s.outputs,
    model: s.model || null,
    provider: s.provider || null,
    token_usage: usageView(s.usage),
    cost: s.cost,
    session_id: s.sessionId || null,
    user_id: s.userId || null,
    documents: s.documents,
    tool: s.tool,
    attributes: s.attributes,
    resource_attributes: s.resourceAttributes,
    events: [
      ...s.events.map((e) => ({ name: e.name, time_ns: e.timeNs, attributes: e.attributes, source: 'span' as const })),
      ...logs.map((e) => ({
        name: e.name,
        time_ns: e.timeNs.toString(),
        attributes: { ...e.attributes, ...(e.body !== null ? { body: e.body } : {}) },
        source: 'log' as const,
      })),
    ],
  };
}

export function traceDetailView(t: TraceRecord): TraceDetailView {
  const logsBySpan = new Map<string, LogEventRecord[]>();
  for (const e of t.events) {
    const list = logsBySpan.get(e.spanId);
    if (list) list.push(e);
    else logsBySpan.set(e.spanId, [e]);
  }
  return {
    info: traceInfoView(t.info),
    spans: t.spans.map((s) => spanView(s, logsBySpan.get(s.spanId) ?? [])),
    assessments: t.assessments.map(assessmentView),
  };
}

/** Nests spans under their parents; spans whose parent is missing become roots. */
export function toTree(spans: SpanView[]): SpanView[] {
  const byId = new Map(spans.map((s) => [s.span_id, { ...s, children: [] as SpanView[] }]));
  const roots: SpanView[] = [];
  for (const s of byId.values()) {
    const parent = s.parent_span_id ? byId.get(s.parent_span_id) : undefined;
    if (parent) parent.children.push(s);
    else roots.push(s);
  }
  return roots;
}

/**
 * A trace as the API answered it, back as the record the evaluator scores (`tracehouse evaluate` reads
 * traces through the API). What a scorer reads survives the round trip; what the view does not carry
 * is filled in: an assessment's version by its last update time (versions are made from that clock),
 * cache and reasoning token counts as absent.
 */
export function traceRecordFromView(v: TraceDetailView): TraceRecord {
  const spans: SpanRecord[] = [];
  const events: LogEventRecord[] = [];
  const visit = (s: SpanView): void => {
    spans.push({
      traceId: s.trace_id,
      spanId: s.span_id,
      parentSpanId: s.parent_span_id ?? '',
      name: s.name,
      kind: s.kind,
      spanType: s.span_type,
      startTimeNs: BigInt(s.start_time_ns),
      endTimeNs: BigInt(s.end_time_ns),
      status: s.status,
      inputs: s.inputs,
      outputs: s.outputs,
      model: s.model ?? '',
      provider: s.provider ?? '',
      usage: s.token_usage && { ...s.token_usage, cache_read_tokens: null, reasoning_tokens: null },
      cost: s.cost,
      sessionId: s.session_id ?? '',
      userId: s.user_id ?? '',
      documents: s.documents,
      tool: s.tool,
      attributes: s.attributes,
      resourceAttributes: s.resource_attributes,
      events: s.events.filter((e) => e.source === 'span').map((e) => ({ name: e.name, timeNs: e.time_ns, attributes: e.attributes })),
    });
    for (const e of s.events) {
      if (e.source !== 'log') continue;
      const { body, ...attributes } = e.attributes;
      events.push({ spanId: s.span_id, timeNs: BigInt(e.time_ns), name: e.name, body: body ?? null, attributes });
    }
    s.children?.forEach(visit);
  };
  v.spans.forEach(visit);
  const i = v.info;
  return {
    info: {
      traceId: i.trace_id,
      project: i.project,
      name: i.name,
      requestTimeNs: isoToNs(i.request_time),
      executionDurationNs: durationToNs(i.execution_duration),
      state: i.state,
      requestPreview: i.request_preview,
      responsePreview: i.response_preview,
      serviceName: i.service_name,
      sessionId: i.session_id,
      userId: i.user_id,
      tags: i.tags,
      metadata: i.trace_metadata,
      tokenUsage: i.token_usage,
      models: i.models,
      spanCount: i.span_count,
      assessments: i.assessments,
    },
    spans,
    events,
    assessments: v.assessments.map(
      (a): AssessmentRecord => ({
        project: i.project,
        traceId: a.trace_id,
        assessmentId: a.assessment_id,
        version: isoToNs(a.last_update_time),
        spanId: a.span_id ?? '',
        name: a.name,
        kind: a.kind as AssessmentRecord['kind'],
        value: a.value,
        rationale: a.rationale,
        sourceType: a.source.source_type as AssessmentRecord['sourceType'],
        sourceId: a.source.source_id,
        error: a.error ?? '',
        metadata: a.metadata,
        createdTimeNs: isoToNs(a.create_time),
        lastUpdatedTimeNs: isoToNs(a.last_update_time),
        valid: a.valid,
        deleted: false,
        overrides: a.overrides ?? '',
      }),
    ),
  };
}
