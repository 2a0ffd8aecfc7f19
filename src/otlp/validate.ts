/**
 * Per-item validation of decoded OTLP requests. Invalid spans / log records are dropped and counted
 * (OTLP partial success) instead of failing the request, so one broken item costs only itself.
 */
import type { LogsRequest, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, Span, SpanIds, TraceRequest } from '../model/otlp.js';
import type { WireResourceSpans, WireScopeSpans, WireSpan, WireTraceRequest } from './decode-protobuf.js';

export interface ValidationResult<T> {
  accepted: T;
  rejected: number;
  /** A few distinct human-readable reasons, for the partial-success message; not one per item. */
  errors: string[];
}

/** Enough examples to diagnose an exporter bug without bloating the response. */
const MAX_ERRORS = 5;

const TRACE_ID_RE = /^[0-9a-f]{32}$/;
const SPAN_ID_RE = /^[0-9a-f]{16}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
const U64_MAX = '18446744073709551615';
const DIGITS_RE = /^[0-9]{1,20}$/;

/** "got 6 bytes" for hex, else the offending text (ids come in as lower-case hex or as sent in JSON). */
function describeId(id: string): string {
  if (/^[0-9a-f]*$/.test(id) && id.length % 2 === 0) return `got ${id.length / 2} bytes`;
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  return `got ${JSON.stringify(shown)} (not hex)`;
}

/** Why a trace id is unusable, or null when it is fine. `required` false allows the empty id. */
function traceIdProblem(field: string, id: string, required: boolean): string | null {
  if (id.length === 32 && TRACE_ID_RE.test(id)) return id === ZERO_TRACE_ID ? `${field} must not be all zeros` : null;
  if (!required && id === '') return null;
  return `${field} must be 16 bytes (32 hex chars), ${id === '' ? 'got none' : describeId(id)}`;
}

function spanIdProblem(field: string, id: string, required: boolean): string | null {
  if (id.length === 16 && SPAN_ID_RE.test(id)) return id === ZERO_SPAN_ID ? `${field} must not be all zeros` : null;
  if (!required && id === '') return null;
  return `${field} must be 8 bytes (16 hex chars), ${id === '' ? 'got none' : describeId(id)}`;
}

/** fixed64 nanoseconds as a decimal string: a non-negative integer that fits in 64 bits. */
function isU64(text: string): boolean {
  if (!DIGITS_RE.test(text)) return false;
  return text.length < 20 || text <= U64_MAX;
}

function timeProblem(field: string, text: string): string | null {
  if (isU64(text)) return null;
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `${field} must be a non-negative integer of nanoseconds, got ${JSON.stringify(shown)}`;
}

/** Why a span's ids are unusable, or null; the id-only wire scan drops spans by this same rule. */
export function spanIdsProblem(s: SpanIds): string | null {
  return (
    traceIdProblem('trace_id', s.traceId, true) ??
    spanIdProblem('span_id', s.spanId, true) ??
    // Parent ids may be empty (root span) but, unlike trace/span ids, zeros are tolerated: some
    // exporters send an all-zero parent for roots and the span itself is still usable.
    (s.parentSpanId === '' || SPAN_ID_RE.test(s.parentSpanId) ? null : `parent_span_id must be empty or 8 bytes (16 hex chars), ${describeId(s.parentSpanId)}`)
  );
}

function spanProblem(s: Span): string | null {
  return spanIdsProblem(s) ?? timeProblem('start_time_unix_nano', s.startTimeNs) ?? timeProblem('end_time_unix_nano', s.endTimeNs);
}

/** Collects up to MAX_ERRORS distinct messages. */
class ErrorList {
  readonly messages: string[] = [];
  private readonly seen = new Set<string>();

  add(message: string): void {
    if (this.messages.length >= MAX_ERRORS || this.seen.has(message)) return;
    this.seen.add(message);
    this.messages.push(message);
  }
}

function label(kind: string, index: number, name: string): string {
  const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return name === '' ? `${kind} ${index}` : `${kind} ${index} (${JSON.stringify(shown)})`;
}

/**
 * Drops spans with unusable ids or times. Span indexes in messages count from 0 across the whole
 * request. Groups keep their resource and scope; groups left empty are dropped.
 */
export function validateTraceRequest(req: TraceRequest): ValidationResult<TraceRequest> {
  const errors = new ErrorList();
  let rejected = 0;
  let index = 0;
  const resourceSpans: ResourceSpans[] = [];
  for (const rs of req.resourceSpans) {
    const scopeSpans: ScopeSpans[] = [];
    for (const ss of rs.scopeSpans) {
      let kept: Span[] | null = null; // allocated only once a span is dropped
      const spans = ss.spans;
      for (let i = 0; i < spans.length; i++, index++) {
        const span = spans[i]!;
        const problem = spanProblem(span);
        if (problem === null) {
          kept?.push(span);
          continue;
        }
        rejected++;
        errors.add(`${label('span', index, span.name)}: ${problem}`);
        kept ??= spans.slice(0, i);
      }
      const out = kept ?? spans;
      if (out.length > 0) scopeSpans.push(kept === null ? ss : { scope: ss.scope, spans: out });
    }
    if (scopeSpans.length > 0) resourceSpans.push({ resource: rs.resource, scopeSpans });
  }
  return { accepted: { resourceSpans }, rejected, errors: errors.messages };
}

/**
 * validateTraceRequest over a request walked on the wire: the same spans dropped, with the same messages
 * (protobuf times are always valid: a fixed64 is a u64, an absent one 0).
 */
export function validateWireTraceRequest(req: WireTraceRequest): ValidationResult<WireTraceRequest> {
  const errors = new ErrorList();
  let rejected = 0;
  let index = 0;
  const resourceSpans: WireResourceSpans[] = [];
  for (const rs of req.resourceSpans) {
    const scopeSpans: WireScopeSpans[] = [];
    for (const ss of rs.scopeSpans) {
      let kept: WireSpan[] | null = null;
      const spans = ss.spans;
      for (let i = 0; i < spans.length; i++, index++) {
        const span = spans[i]!;
        if (span.problem === null) {
          kept?.push(span);
          continue;
        }
        rejected++;
        errors.add(`${label('span', index, span.name)}: ${span.problem}`);
        kept ??= spans.slice(0, i);
      }
      const out = kept ?? spans;
      if (out.length > 0) scopeSpans.push(kept === null ? ss : { ...ss, spans: out });
    }
    if (scopeSpans.length > 0)
      resourceSpans.push(scopeSpans.length === rs.scopeSpans.length && scopeSpans.every((s, i) => s === rs.scopeSpans[i]) ? rs : { ...rs, scopeSpans });
  }
  return { accepted: { body: req.body, resourceSpans }, rejected, errors: errors.messages };
}

/**
 * Drops log records whose trace/span ids are present but malformed. Unlinked records (both empty)
 * are valid; GenAI events usually carry both ids.
 */
export function validateLogsRequest(req: LogsRequest): ValidationResult<LogsRequest> {
  const errors = new ErrorList();
  let rejected = 0;
  let index = 0;
  const resourceLogs: ResourceLogs[] = [];
  for (const rl of req.resourceLogs) {
    const scopeLogs: ScopeLogs[] = [];
    for (const sl of rl.scopeLogs) {
      let kept: ScopeLogs['logRecords'] | null = null;
      const records = sl.logRecords;
      for (let i = 0; i < records.length; i++, index++) {
        const r = records[i]!;
        const problem = traceIdProblem('trace_id', r.traceId, false) ?? spanIdProblem('span_id', r.spanId, false);
        if (problem === null) {
          kept?.push(r);
          continue;
        }
        rejected++;
        errors.add(`${label('log record', index, r.eventName)}: ${problem}`);
        kept ??= records.slice(0, i);
      }
      const out = kept ?? records;
      if (out.length > 0) scopeLogs.push(kept === null ? sl : { scope: sl.scope, logRecords: out });
    }
    if (scopeLogs.length > 0) resourceLogs.push({ resource: rl.resource, scopeLogs });
  }
  return { accepted: { resourceLogs }, rejected, errors: errors.messages };
}
