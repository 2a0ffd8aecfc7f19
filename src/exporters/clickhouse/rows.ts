import { createHash } from 'node:crypto';
import type { Json, NormalizedSpan } from '../../model/genai.js';
import type { Attributes, Span } from '../../model/otlp.js';
import { normalizeSpan } from '../../normalize/index.js';
import { requestText, responseText } from '../../normalize/preview.js';
import type { LogGroup, SpanGroup } from '../../component/consumer.js';
import { earlierSpan, placeholderTraceRow, TRACE_ROW_VERSION, type EventRow, type SpanRow, type TraceRow } from './tables.js';

const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

/** Map(String, String) columns hold strings; other attribute values keep their JSON form. */
export function flattenAttributes(attrs: Attributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in attrs) {
    const v = attrs[key] as Json;
    out[key] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Inputs/outputs are stored as JSON text; '' means absent. */
const jsonText = (v: Json | undefined): string => (v === undefined ? '' : JSON.stringify(v));

/** A preview shows text as text (not as a JSON string literal), cut to `max` characters. */
export function preview(stored: string, max: number): string {
  if (stored === '') return '';
  let text = stored;
  if (stored.startsWith('"')) {
    try {
      text = JSON.parse(stored) as string;
    } catch {
      // keep the stored form
    }
  }
  return text.length > max ? text.slice(0, max) : text;
}

const parseStored = (stored: string): Json | undefined => {
  try {
    return JSON.parse(stored) as Json;
  } catch {
    return undefined;
  }
};

const cutText = (text: string, max: number): string => (text.length > max ? text.slice(0, max) : text);

/** The request preview: the last user message's text when the input is chat, else the input itself. */
export function requestPreview(stored: string, max: number): string {
  if (stored === '') return '';
  const text = requestText(parseStored(stored));
  return text === undefined ? preview(stored, max) : cutText(text, max);
}

/** The response preview: the assistant's text when the output is chat, else the output itself. */
export function responsePreview(stored: string, max: number): string {
  if (stored === '') return '';
  const text = responseText(parseStored(stored));
  return text === undefined ? preview(stored, max) : cutText(text, max);
}

const serviceName = (resourceAttrs: Attributes): string => {
  const v = resourceAttrs['service.name'];
  return typeof v === 'string' ? v : '';
};

/**
 * A token count the UInt64 column can hold, else NULL: the binary insert cannot carry what the JSON
 * parser used to coerce (a fraction, a negative), so both insert formats store the same.
 */
const count = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** Sees each span as it becomes a row (the ingest report's counters). */
export type SpanRowObserver = (n: NormalizedSpan, attrs: Attributes, row: SpanRow) => void;

export function buildSpanRow(group: SpanGroup, span: Span, resourceAttrs: Record<string, string>, observe?: SpanRowObserver): SpanRow {
  const n = normalizeSpan(span, group.resource, group.scope);
  const row: SpanRow = {
    project: group.project,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: SPAN_KINDS[span.kind] ?? 'UNSPECIFIED',
    span_type: n.spanType,
    start_time_ns: span.startTimeNs,
    end_time_ns: span.endTimeNs,
    status_code: STATUS[span.status.code] ?? 'UNSET',
    status_message: n.errorMessage,
    service_name: serviceName(group.resource.attributes),
    scope_name: group.scope.name,
    scope_version: group.scope.version,
    model: n.model,
    provider: n.provider,
    input_tokens: count(n.usage?.input_tokens),
    output_tokens: count(n.usage?.output_tokens),
    total_tokens: count(n.usage?.total_tokens),
    cache_read_tokens: count(n.usage?.cache_read_tokens),
    reasoning_tokens: count(n.usage?.reasoning_tokens),
    cost: n.cost !== null && Number.isFinite(n.cost) ? n.cost : null,
    session_id: n.sessionId,
    user_id: n.userId,
    inputs: jsonText(n.inputs),
    outputs: jsonText(n.outputs),
    documents: n.documents.length ? JSON.stringify(n.documents) : '',
    tool_name: n.tool?.name ?? '',
    tool_arguments: n.tool ? jsonText(n.tool.arguments ?? undefined) : '',
    tool_result: n.tool ? jsonText(n.tool.result ?? undefined) : '',
    tags: n.tags,
    metadata: n.metadata,
    attributes: flattenAttributes(span.attributes),
    resource_attributes: resourceAttrs,
    events: span.events.length ? JSON.stringify(span.events.map((e) => ({ name: e.name, time_ns: e.timeNs, attributes: e.attributes }))) : '',
    links: span.links.length ? JSON.stringify(span.links.map((l) => ({ trace_id: l.traceId, span_id: l.spanId, attributes: l.attributes }))) : '',
  };
  observe?.(n, span.attributes, row);
  return row;
}

interface TraceAccumulator {
  root: SpanRow | null;
  first: SpanRow;
  /** Outermost spans with a payload, for previews when the root has none. */
  firstInput: SpanRow | null;
  lastOutput: SpanRow | null;
  /** The same among model calls: a bare root's preview is the conversation, not a retriever's query. */
  firstChatInput: SpanRow | null;
  lastChatOutput: SpanRow | null;
}

const isModelCall = (r: SpanRow): boolean => r.span_type === 'LLM' || r.span_type === 'CHAT_MODEL';
const startsBefore = (a: SpanRow, b: SpanRow | null): boolean => !b || BigInt(a.start_time_ns) < BigInt(b.start_time_ns);
const endsAfter = (a: SpanRow, b: SpanRow | null): boolean => !b || BigInt(a.end_time_ns) > BigInt(b.end_time_ns);

/**
 * Trace summaries for the traces a batch touches: from the root span when the batch has it, else an
 * IN_PROGRESS placeholder starting at the batch's earliest span (placeholderTraceRow). Previews come from
 * the root's inputs and outputs, as text (requestPreview, responsePreview); when an app leaves its root
 * bare (as the Vercel AI SDK's users often do), from the earliest-starting span with inputs and the
 * latest-ending span with outputs in the same batch — except a failed root's output, which stays empty.
 */
export function buildTraceRows(rows: readonly SpanRow[], previewChars: number): TraceRow[] {
  const byTrace = new Map<string, TraceAccumulator>();
  for (const r of rows) {
    const key = `${r.project}\u0000${r.trace_id}`;
    let acc = byTrace.get(key);
    if (!acc) byTrace.set(key, (acc = { root: null, first: r, firstInput: null, lastOutput: null, firstChatInput: null, lastChatOutput: null }));
    else acc.first = earlierSpan(acc.first, r);
    if (r.parent_span_id === '') acc.root = r;
    if (r.inputs && startsBefore(r, acc.firstInput)) acc.firstInput = r;
    if (r.outputs && endsAfter(r, acc.lastOutput)) acc.lastOutput = r;
    if (r.inputs && isModelCall(r) && startsBefore(r, acc.firstChatInput)) acc.firstChatInput = r;
    if (r.outputs && isModelCall(r) && endsAfter(r, acc.lastChatOutput)) acc.lastChatOutput = r;
  }
  const out: TraceRow[] = [];
  for (const { root, first, firstInput, lastOutput, firstChatInput, lastChatOutput } of byTrace.values()) {
    if (root) {
      const duration = BigInt(root.end_time_ns) - BigInt(root.start_time_ns);
      out.push({
        project: root.project,
        trace_id: root.trace_id,
        version: TRACE_ROW_VERSION.root,
        request_time_ns: root.start_time_ns,
        execution_duration_ns: (duration > 0n ? duration : 0n).toString(),
        state: root.status_code === 'ERROR' ? 'ERROR' : 'OK',
        name: root.name,
        root_span_id: root.span_id,
        service_name: root.service_name,
        request_preview: requestPreview(root.inputs || ((firstChatInput ?? firstInput)?.inputs ?? ''), previewChars),
        // A failed root without output has none: another span's output (retrieved documents, a child's
        // partial generation) would pass for the trace's answer, and which one depends on batching.
        response_preview: responsePreview(root.outputs || (root.status_code === 'ERROR' ? '' : ((lastChatOutput ?? lastOutput)?.outputs ?? '')), previewChars),
      });
    } else {
      out.push(placeholderTraceRow(first));
    }
  }
  return out;
}

export function buildEventRows(group: LogGroup): EventRow[] {
  const resourceAttrs = flattenAttributes(group.resource.attributes);
  const service = serviceName(group.resource.attributes);
  return group.records.map((rec) => {
    const attributes = flattenAttributes(rec.attributes);
    const body = rec.body === null || rec.body === '' ? '' : JSON.stringify(rec.body);
    const time = rec.timeNs !== '0' && rec.timeNs !== '' ? rec.timeNs : rec.observedTimeNs;
    // Content-derived id: a resent record gets the same id, so ReplacingMergeTree and queries fold it.
    const eventId = createHash('sha1')
      .update(`${rec.traceId}|${rec.spanId}|${time}|${rec.eventName}|${body}|${JSON.stringify(attributes)}`)
      .digest('hex')
      .slice(0, 16);
    return {
      project: group.project,
      trace_id: rec.traceId,
      span_id: rec.spanId,
      time_ns: time || '0',
      event_id: eventId,
      event_name: rec.eventName,
      severity_number: Number.isInteger(rec.severityNumber) && rec.severityNumber >= 0 && rec.severityNumber <= 255 ? rec.severityNumber : 0,
      severity_text: rec.severityText,
      service_name: service,
      body,
      attributes,
      resource_attributes: resourceAttrs,
    };
  });
}
