import type { Json, RetrievedDocument, TokenUsage } from '../model/genai.js';
import { genaiEventsToIO } from '../normalize/index.js';
import type { StoredEventRow, StoredSpanRow } from '../exporters/clickhouse/tables.js';
import type { LogEventRecord, SpanEventRecord, SpanRecord } from './records.js';

/** The columns of a log record a trace read selects. */
export type SpanEventRow = Pick<StoredEventRow, 'span_id' | 'time_ns' | 'event_name' | 'body' | 'attributes'>;

/** Parses stored JSON text; '' is absent (null). Text that is not JSON is returned as it is. */
export function parseStored(text: string): Json | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/** Attribute values that were not strings were stored as JSON text; give them back their type. */
function typedAttributes(attrs: Record<string, string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const c = v.charCodeAt(0);
    // Only values that look like JSON non-strings are parsed; strings stay as they were sent.
    const looksJson = c === 91 || c === 123 || v === 'true' || v === 'false' || v === 'null' || (v !== '' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v));
    out[k] = looksJson ? (parseStored(v) ?? v) : v;
  }
  return out;
}

const count = (v: string | null): number | null => (v === null ? null : Number(v));

function usage(r: StoredSpanRow): TokenUsage | null {
  const u: TokenUsage = {
    input_tokens: count(r.input_tokens),
    output_tokens: count(r.output_tokens),
    total_tokens: count(r.total_tokens),
    cache_read_tokens: count(r.cache_read_tokens),
    reasoning_tokens: count(r.reasoning_tokens),
  };
  return Object.values(u).every((v) => v === null) ? null : u;
}

export function logEventRecord(e: SpanEventRow): LogEventRecord {
  return { spanId: e.span_id, timeNs: BigInt(e.time_ns), name: e.event_name, body: parseStored(e.body), attributes: typedAttributes(e.attributes) };
}

/** Spans as records; `logEvents` are the trace's log records, whose GenAI messages fill in missing inputs and outputs. */
export function spanRecords(rows: readonly StoredSpanRow[], logEvents: readonly LogEventRecord[]): SpanRecord[] {
  const logsBySpan = new Map<string, LogEventRecord[]>();
  for (const e of logEvents) {
    const list = logsBySpan.get(e.spanId);
    if (list) list.push(e);
    else logsBySpan.set(e.spanId, [e]);
  }
  return rows.map((r) => {
    const own = (parseStored(r.events) ?? []) as Array<{ name: string; time_ns: string; attributes: Record<string, Json> }>;
    const logs = logsBySpan.get(r.span_id) ?? [];
    let inputs = parseStored(r.inputs);
    let outputs = parseStored(r.outputs);
    if (logs.length && (inputs === null || outputs === null)) {
      // GenAI events sent as OTLP logs carry the messages that span attributes lack.
      const io = genaiEventsToIO(logs.map((e) => ({ name: e.name, attributes: e.attributes, body: e.body ?? undefined })));
      if (inputs === null && io.inputs !== undefined) inputs = io.inputs;
      if (outputs === null && io.outputs !== undefined) outputs = io.outputs;
    }
    return {
      traceId: r.trace_id,
      spanId: r.span_id,
      parentSpanId: r.parent_span_id,
      name: r.name,
      kind: r.kind,
      spanType: r.span_type,
      startTimeNs: BigInt(r.start_time_ns),
      endTimeNs: BigInt(r.end_time_ns),
      status: { code: r.status_code, message: r.status_message },
      inputs,
      outputs,
      model: r.model,
      provider: r.provider,
      usage: usage(r),
      cost: r.cost,
      sessionId: r.session_id,
      userId: r.user_id,
      documents: (parseStored(r.documents) ?? []) as unknown as RetrievedDocument[],
      tool: r.tool_name ? { name: r.tool_name, arguments: parseStored(r.tool_arguments), result: parseStored(r.tool_result) } : null,
      attributes: typedAttributes(r.attributes),
      resourceAttributes: r.resource_attributes,
      events: own.map((e): SpanEventRecord => ({ name: e.name, timeNs: e.time_ns, attributes: e.attributes })),
    };
  });
}
