import type { Json } from '../model/genai.js';
import type { Attributes } from '../model/otlp.js';
import { genaiEventsToIO } from '../normalize/index.js';
import { parseStored, type SpanView, type TokenUsageView } from './views.js';
import type { StoredEventRow, StoredSpanRow } from '../exporters/clickhouse/tables.js';

/** The columns of a log record a span's view merges in. */
export type SpanEventRow = Pick<StoredEventRow, 'span_id' | 'time_ns' | 'event_name' | 'body' | 'attributes'>;

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

function usageView(r: StoredSpanRow): TokenUsageView | null {
  if (r.input_tokens === null && r.output_tokens === null && r.total_tokens === null) return null;
  const input = Number(r.input_tokens ?? 0);
  const output = Number(r.output_tokens ?? 0);
  return { input_tokens: input, output_tokens: output, total_tokens: r.total_tokens === null ? input + output : Number(r.total_tokens) };
}

export function buildSpanViews(rows: readonly StoredSpanRow[], logEvents: readonly SpanEventRow[]): SpanView[] {
  const logsBySpan = new Map<string, SpanEventRow[]>();
  for (const e of logEvents) {
    const list = logsBySpan.get(e.span_id);
    if (list) list.push(e);
    else logsBySpan.set(e.span_id, [e]);
  }
  return rows.map((r) => {
    const own = (parseStored(r.events) ?? []) as Array<{ name: string; time_ns: string; attributes: Record<string, Json> }>;
    const logs = logsBySpan.get(r.span_id) ?? [];
    let inputs = parseStored(r.inputs);
    let outputs = parseStored(r.outputs);
    if (logs.length && (inputs === null || outputs === null)) {
      // GenAI events sent as OTLP logs carry the messages that span attributes lack.
      const io = genaiEventsToIO(
        logs.map((e) => ({ name: e.event_name, attributes: typedAttributes(e.attributes) as Attributes, body: (parseStored(e.body) ?? undefined) as Json | undefined })),
      );
      if (inputs === null && io.inputs !== undefined) inputs = io.inputs;
      if (outputs === null && io.outputs !== undefined) outputs = io.outputs;
    }
    return {
      trace_id: r.trace_id,
      span_id: r.span_id,
      parent_span_id: r.parent_span_id || null,
      name: r.name,
      span_type: r.span_type,
      kind: r.kind,
      start_time_ns: r.start_time_ns,
      end_time_ns: r.end_time_ns,
      status: { code: r.status_code, message: r.status_message },
      inputs,
      outputs,
      model: r.model || null,
      provider: r.provider || null,
      token_usage: usageView(r),
      cost: r.cost,
      session_id: r.session_id || null,
      user_id: r.user_id || null,
      documents: (parseStored(r.documents) ?? []) as SpanView['documents'],
      tool: r.tool_name ? { name: r.tool_name, arguments: parseStored(r.tool_arguments), result: parseStored(r.tool_result) } : null,
      attributes: typedAttributes(r.attributes),
      resource_attributes: r.resource_attributes,
      events: [
        ...own.map((e) => ({ name: e.name, time_ns: e.time_ns, attributes: e.attributes, source: 'span' as const })),
        ...logs.map((e) => ({
          name: e.event_name,
          time_ns: e.time_ns,
          attributes: { ...typedAttributes(e.attributes), ...(e.body ? { body: parseStored(e.body) } : {}) },
          source: 'log' as const,
        })),
      ],
    };
  });
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
