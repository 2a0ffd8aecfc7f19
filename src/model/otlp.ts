/**
 * The decoded form of an OTLP export request, shared by the protobuf and JSON decoders.
 * Ids are lower-case hex, times are nanoseconds since the epoch as decimal strings (they pass
 * 2^53), and attribute values are plain JSON values.
 */

import type { Json } from './genai.js';

/** OTLP AnyValues as plain JSON: bytes become base64 strings, int64 becomes a number when safe, else a string. */
export type Attributes = Record<string, Json>;

export interface Resource {
  attributes: Attributes;
}

export interface Scope {
  name: string;
  version: string;
}

export interface SpanEvent {
  timeNs: string;
  name: string;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

/** OTLP status codes: 0 UNSET, 1 OK, 2 ERROR. */
export type StatusCode = 0 | 1 | 2;

export interface Span {
  traceId: string;
  spanId: string;
  /** Empty string for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeNs: string;
  endTimeNs: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  status: { code: StatusCode; message: string };
}

/** A span known only by its ids: what the id-only wire scan reads and the evaluator needs. */
export type SpanIds = Pick<Span, 'traceId' | 'spanId' | 'parentSpanId'>;

export interface ScopeSpans {
  scope: Scope;
  spans: Span[];
}

export interface ResourceSpans {
  resource: Resource;
  scopeSpans: ScopeSpans[];
}

export interface TraceRequest {
  resourceSpans: ResourceSpans[];
}

export interface LogRecord {
  timeNs: string;
  observedTimeNs: string;
  severityNumber: number;
  severityText: string;
  /** The record's body; GenAI events carry their payload here or in attributes. */
  body: Json;
  attributes: Attributes;
  /** Empty when the record is not linked to a span. */
  traceId: string;
  spanId: string;
  /** OTLP `event_name` (field 12), else the `event.name` attribute. */
  eventName: string;
}

export interface ScopeLogs {
  scope: Scope;
  logRecords: LogRecord[];
}

export interface ResourceLogs {
  resource: Resource;
  scopeLogs: ScopeLogs[];
}

export interface LogsRequest {
  resourceLogs: ResourceLogs[];
}
