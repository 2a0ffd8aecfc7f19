/**
 * The decoded model back to OTLP protobuf export requests: what the Kafka bus carries, so that any OTLP
 * consumer (an OTel Collector's Kafka receiver with `otlp_proto`) can read our topics.
 *
 * Re-encoding is faithful to the model, which is a little lossy against the original wire: an integer
 * attribute beyond 2^53 was kept as a decimal string and goes out as a string, bytes values as base64
 * strings, and a double with an integral value goes out as an int.
 */
import Long from 'long';
import type { Json } from '../model/genai.js';
import type { Attributes, LogRecord, LogsRequest, Resource, Scope, Span, TraceRequest } from '../model/otlp.js';
import { ExportLogsServiceRequest, ExportTraceServiceRequest } from './proto.js';

type PbAny =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: Long }
  | { doubleValue: number }
  | { arrayValue: { values: PbAny[] } }
  | { kvlistValue: { values: PbKeyValue[] } }
  | Record<string, never>;
interface PbKeyValue {
  key: string;
  value: PbAny;
}

function anyValue(v: Json): PbAny {
  if (v === null) return {};
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      return Number.isSafeInteger(v) ? { intValue: Long.fromNumber(v) } : { doubleValue: v };
    default:
      if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
      return { kvlistValue: { values: keyValues(v) } };
  }
}

function keyValues(attrs: Attributes): PbKeyValue[] {
  const out: PbKeyValue[] = [];
  for (const key in attrs) out.push({ key, value: anyValue(attrs[key] as Json) });
  return out;
}

const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
const u64 = (decimal: string): Long => Long.fromString(decimal || '0', true);

function pbResource(r: Resource): object {
  return { attributes: keyValues(r.attributes) };
}
function pbScope(s: Scope): object {
  return { name: s.name, version: s.version };
}

function pbSpan(s: Span): object {
  return {
    traceId: id(s.traceId),
    spanId: id(s.spanId),
    ...(s.parentSpanId ? { parentSpanId: id(s.parentSpanId) } : {}),
    traceState: s.traceState,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: u64(s.startTimeNs),
    endTimeUnixNano: u64(s.endTimeNs),
    attributes: keyValues(s.attributes),
    events: s.events.map((e) => ({ timeUnixNano: u64(e.timeNs), name: e.name, attributes: keyValues(e.attributes) })),
    links: s.links.map((l) => ({ traceId: id(l.traceId), spanId: id(l.spanId), attributes: keyValues(l.attributes) })),
    status: { code: s.status.code, message: s.status.message },
  };
}

function pbLog(r: LogRecord): object {
  return {
    timeUnixNano: u64(r.timeNs),
    observedTimeUnixNano: u64(r.observedTimeNs),
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: anyValue(r.body),
    attributes: keyValues(r.attributes),
    ...(r.traceId ? { traceId: id(r.traceId) } : {}),
    ...(r.spanId ? { spanId: id(r.spanId) } : {}),
    eventName: r.eventName,
  };
}

const toBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function encodeTraceRequest(req: TraceRequest): Buffer {
  const msg = {
    resourceSpans: req.resourceSpans.map((rs) => ({
      resource: pbResource(rs.resource),
      scopeSpans: rs.scopeSpans.map((ss) => ({ scope: pbScope(ss.scope), spans: ss.spans.map(pbSpan) })),
    })),
  };
  return toBuffer(ExportTraceServiceRequest.encode(msg).finish());
}

export function encodeLogsRequest(req: LogsRequest): Buffer {
  const msg = {
    resourceLogs: req.resourceLogs.map((rl) => ({
      resource: pbResource(rl.resource),
      scopeLogs: rl.scopeLogs.map((sl) => ({ scope: pbScope(sl.scope), logRecords: sl.logRecords.map(pbLog) })),
    })),
  };
  return toBuffer(ExportLogsServiceRequest.encode(msg).finish());
}
