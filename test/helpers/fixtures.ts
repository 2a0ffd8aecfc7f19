import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export const FIXTURE_NAMES = ['openinference', 'traceloop', 'otel-genai', 'vercel', 'mlflow'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

export const fixturePath = (file: string): string => fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));

export interface FixtureFacts {
  library: string;
  span_count: number;
  traces: Array<{
    trace_id: string;
    customer_name: string;
    user_instructions: string;
    session?: string;
    user?: string;
    documents: number;
    /** Absent for the trace whose LLM call failed. */
    token_usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
    email: string;
    state: 'OK' | 'ERROR';
  }>;
}

export const loadFacts = (name: FixtureName): FixtureFacts => JSON.parse(readFileSync(fixturePath(`${name}.facts.json`), 'utf8')) as FixtureFacts;

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
interface JsonKV {
  key: string;
  value: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: JsonKV[];
  events?: Array<{ timeUnixNano: string; name: string; attributes?: JsonKV[] }>;
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans: Array<{
    resource?: { attributes?: JsonKV[] };
    scopeSpans: Array<{ scope?: { name?: string; version?: string }; spans: JsonSpan[] }>;
  }>;
}

function value(v: JsonAnyValue): AttributeValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => value(x)) as AttributeValue;
  throw new Error(`fixture attribute value not representable as an OTel attribute: ${JSON.stringify(v)}`);
}

const attrs = (kvs: JsonKV[] | undefined): Attributes => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]));

const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

/**
 * The fixture's spans as SDK ReadableSpans, so the official OTel exporters can send them. Times are
 * shifted so the newest span ends `endsAgoMs` before now (TTL and time-range searches see recent data).
 */
export function fixtureSpans(name: FixtureName, endsAgoMs = 1000): ReadableSpan[] {
  const req = JSON.parse(readFileSync(fixturePath(`${name}.traces.json`), 'utf8')) as JsonRequest;
  let maxEnd = 0n;
  for (const rs of req.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const e = BigInt(s.endTimeUnixNano);
        if (e > maxEnd) maxEnd = e;
      }
  const shift = BigInt(Date.now() - endsAgoMs) * 1_000_000n - maxEnd;
  const out: ReadableSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = resourceFromAttributes(attrs(rs.resource?.attributes));
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const start = BigInt(s.startTimeUnixNano) + shift;
        const end = BigInt(s.endTimeUnixNano) + shift;
        const ctx: SpanContext = { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 };
        out.push({
          name: s.name,
          kind: s.kind ? s.kind - 1 : 0,
          spanContext: () => ctx,
          parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } : undefined,
          startTime: hr(start),
          endTime: hr(end),
          duration: hr(end - start),
          status: { code: s.status?.code ?? 0, message: s.status?.message },
          attributes: attrs(s.attributes),
          links: [],
          events: (s.events ?? []).map((e) => ({ name: e.name, time: hr(BigInt(e.timeUnixNano) + shift), attributes: attrs(e.attributes) })),
          ended: true,
          resource,
          instrumentationScope: { name: ss.scope?.name ?? '', version: ss.scope?.version },
          droppedAttributesCount: 0,
          droppedEventsCount: 0,
          droppedLinksCount: 0,
        });
      }
    }
  }
  return out;
}
