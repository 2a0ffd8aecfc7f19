/**
 * OTLP protobuf export requests → the model, read straight off the wire in one pass (see the note below
 * on why not protobufjs' reflection decoder); and an id-only scan of trace requests over the same wire.
 */
import type { Json } from '../model/genai.js';
import type {
  Attributes,
  LogRecord,
  LogsRequest,
  Resource,
  ResourceLogs,
  ResourceSpans,
  Scope,
  ScopeLogs,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanIds,
  SpanLink,
  StatusCode,
  TraceRequest,
} from '../model/otlp.js';
import { fieldTags, fieldWireTypes } from './proto.js';
import { MAX_DEPTH, OtlpDecodeError, doubleValue, eventNameOf, parentId, setAttr, statusCode, u64ToDecimal } from './decode-common.js';
import { spanIdsProblem } from './validate.js';

export const decodeTraceProtobuf = (body: Buffer): TraceRequest => runWire(body, traceFromPb);
export const decodeLogsProtobuf = (body: Buffer): LogsRequest => runWire(body, logsFromPb);

function runWire<T>(body: Buffer, walk: (r: Wire) => T): T {
  try {
    return walk({ buf: body, pos: 0, lo: 0, hi: 0 });
  } catch (err) {
    // RangeError also covers Buffer reads past the end and call-stack exhaustion.
    if (err instanceof WireError || err instanceof RangeError) {
      throw new OtlpDecodeError(`invalid protobuf: ${err.message}`);
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf path
//
// protobufjs' reflection decoder is correct but slow for this workload (it validates UTF-8 in JS,
// deletes sibling oneof members on every AnyValue, and allocates Buffers and Longs per id and time),
// so the body is walked on the wire directly. Field tags come from the loaded schema (`fieldTags`),
// unknown fields are skipped; a known field with a wire type it cannot have is refused as malformed
// (protobufjs would skip it, and the request would be acknowledged without its data).
// ---------------------------------------------------------------------------------------------

const RS = fieldTags('opentelemetry.proto.trace.v1.ResourceSpans', ['resource', 'scopeSpans']);
const SS = fieldTags('opentelemetry.proto.trace.v1.ScopeSpans', ['scope', 'spans']);
const SP = fieldTags('opentelemetry.proto.trace.v1.Span', [
  'traceId',
  'spanId',
  'traceState',
  'parentSpanId',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'events',
  'links',
  'status',
]);
const EV = fieldTags('opentelemetry.proto.trace.v1.Span.Event', ['timeUnixNano', 'name', 'attributes']);
const LK = fieldTags('opentelemetry.proto.trace.v1.Span.Link', ['traceId', 'spanId', 'attributes']);
const ST = fieldTags('opentelemetry.proto.trace.v1.Status', ['message', 'code']);
const RL = fieldTags('opentelemetry.proto.logs.v1.ResourceLogs', ['resource', 'scopeLogs']);
const SL = fieldTags('opentelemetry.proto.logs.v1.ScopeLogs', ['scope', 'logRecords']);
const LR = fieldTags('opentelemetry.proto.logs.v1.LogRecord', [
  'timeUnixNano',
  'observedTimeUnixNano',
  'severityNumber',
  'severityText',
  'body',
  'attributes',
  'traceId',
  'spanId',
  'eventName',
]);
const RES = fieldTags('opentelemetry.proto.resource.v1.Resource', ['attributes']);
const SC = fieldTags('opentelemetry.proto.common.v1.InstrumentationScope', ['name', 'version']);
const KV = fieldTags('opentelemetry.proto.common.v1.KeyValue', ['key', 'value']);
const AV = fieldTags('opentelemetry.proto.common.v1.AnyValue', [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
]);
const AR = fieldTags('opentelemetry.proto.common.v1.ArrayValue', ['values']);
const KL = fieldTags('opentelemetry.proto.common.v1.KeyValueList', ['values']);
const TRACE_REQ = fieldTags('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', ['resourceSpans']);
const LOGS_REQ = fieldTags('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', ['resourceLogs']);

// The wire types each message's fields may arrive in: a known field on another one is refused.
const W_AR = fieldWireTypes('opentelemetry.proto.common.v1.ArrayValue');
const W_KL = fieldWireTypes('opentelemetry.proto.common.v1.KeyValueList');
const W_AV = fieldWireTypes('opentelemetry.proto.common.v1.AnyValue');
const W_KV = fieldWireTypes('opentelemetry.proto.common.v1.KeyValue');
const W_RES = fieldWireTypes('opentelemetry.proto.resource.v1.Resource');
const W_SC = fieldWireTypes('opentelemetry.proto.common.v1.InstrumentationScope');
const W_ST = fieldWireTypes('opentelemetry.proto.trace.v1.Status');
const W_EV = fieldWireTypes('opentelemetry.proto.trace.v1.Span.Event');
const W_LK = fieldWireTypes('opentelemetry.proto.trace.v1.Span.Link');
const W_SP = fieldWireTypes('opentelemetry.proto.trace.v1.Span');
const W_SS = fieldWireTypes('opentelemetry.proto.trace.v1.ScopeSpans');
const W_RS = fieldWireTypes('opentelemetry.proto.trace.v1.ResourceSpans');
const W_TRACE_REQ = fieldWireTypes('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const W_LR = fieldWireTypes('opentelemetry.proto.logs.v1.LogRecord');
const W_SL = fieldWireTypes('opentelemetry.proto.logs.v1.ScopeLogs');
const W_RL = fieldWireTypes('opentelemetry.proto.logs.v1.ResourceLogs');
const W_LOGS_REQ = fieldWireTypes('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

/** Malformed wire data; becomes `OtlpDecodeError("invalid protobuf: ...")` at the entry point. */
class WireError extends Error {}

/** Cursor over the request body. `lo`/`hi` return the halves of the last 64-bit value read. */
interface Wire {
  buf: Buffer;
  pos: number;
  lo: number;
  hi: number;
}

function outOfRange(r: Wire, need: number, end: number): WireError {
  return new WireError(`index out of range: ${r.pos} + ${need} > ${end}`);
}

/** Varint, keeping the low 32 bits (as unsigned); longer encodings (negative int32) are consumed. */
function varint32(r: Wire, end: number): number {
  const buf = r.buf;
  let pos = r.pos;
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw outOfRange(r, 1, end);
    const b = buf[pos++]!;
    if (shift < 32) value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      return value >>> 0;
    }
  }
  throw new WireError(`invalid varint encoding at offset ${r.pos}`);
}

/** Varint into r.lo / r.hi (for int64). */
function varint64(r: Wire, end: number): void {
  const buf = r.buf;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw outOfRange(r, 1, end);
    const b = buf[pos++]!;
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (7 * i - 32);
    if (b < 0x80) {
      r.pos = pos;
      r.lo = lo >>> 0;
      r.hi = hi >>> 0;
      return;
    }
  }
  throw new WireError(`invalid varint encoding at offset ${r.pos}`);
}

function u32le(buf: Buffer, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

/** fixed64 nanoseconds → decimal string. */
function fixed64Decimal(r: Wire, end: number): string {
  if (r.pos + 8 > end) throw outOfRange(r, 8, end);
  const lo = u32le(r.buf, r.pos);
  const hi = u32le(r.buf, r.pos + 4);
  r.pos += 8;
  return u64ToDecimal(lo, hi);
}

/** Start of a length-delimited field's payload; returns its end. */
function lenEnd(r: Wire, end: number): number {
  const len = varint32(r, end);
  const e = r.pos + len;
  if (e > end) throw outOfRange(r, len, end);
  return e;
}

function str(r: Wire, end: number): string {
  const e = lenEnd(r, end);
  const s = r.pos === e ? '' : r.buf.toString('utf8', r.pos, e);
  r.pos = e;
  return s;
}

function hex(r: Wire, end: number): string {
  const e = lenEnd(r, end);
  const s = r.pos === e ? '' : r.buf.toString('hex', r.pos, e);
  r.pos = e;
  return s;
}

function skip(r: Wire, tag: number, end: number, depth: number): void {
  switch (tag & 7) {
    case 0:
      varint32(r, end);
      return;
    case 1:
      if (r.pos + 8 > end) throw outOfRange(r, 8, end);
      r.pos += 8;
      return;
    case 2:
      r.pos = lenEnd(r, end);
      return;
    case 3: {
      // Deprecated groups: skip nested fields up to the matching end-group tag.
      if (depth > MAX_DEPTH) throw new WireError('max depth exceeded');
      for (;;) {
        if (r.pos >= end) throw outOfRange(r, 1, end);
        const t = varint32(r, end);
        if ((t & 7) === 4) {
          if (t >>> 3 !== tag >>> 3) throw new WireError(`mismatched end group at offset ${r.pos}`);
          return;
        }
        skip(r, t, end, depth + 1);
      }
    }
    case 5:
      if (r.pos + 4 > end) throw outOfRange(r, 4, end);
      r.pos += 4;
      return;
    default:
      throw new WireError(`invalid wire type ${tag & 7} at offset ${r.pos}`);
  }
}

/**
 * Skips a field the reader does not take, refusing it when its number is one the message defines but its
 * wire type is not one that field can have (a malformed request, not a newer schema's field).
 */
function skipField(r: Wire, tag: number, end: number, depth: number, known: ReadonlyMap<number, readonly number[]>): void {
  const expected = known.get(tag >>> 3);
  // Wire types 4, 6 and 7 are malformed whatever the field: skip says so in its own words.
  if (expected !== undefined && !expected.includes(tag & 7) && [0, 1, 2, 3, 5].includes(tag & 7)) {
    throw new WireError(`field ${tag >>> 3} has wire type ${tag & 7}, expected ${expected.join(' or ')}, at offset ${r.pos}`);
  }
  skip(r, tag, end, depth);
}

/** Every message reader ends exactly at its boundary, or the length prefixes lied. */
function checkEnd(r: Wire, end: number): void {
  if (r.pos !== end) throw outOfRange(r, 0, end);
}

function readAnyValue(r: Wire, end: number, depth: number): Json {
  if (depth > MAX_DEPTH) throw new WireError('max depth exceeded');
  let value: Json = null; // oneof: the last member on the wire wins
  while (r.pos < end) {
    const tag = varint32(r, end);
    switch (tag) {
      case AV.stringValue:
        value = str(r, end);
        break;
      case AV.intValue: {
        varint64(r, end);
        const n = (r.hi | 0) * 4294967296 + r.lo;
        // An unsafe value can only round to another unsafe value, so this test is exact.
        value = Number.isSafeInteger(n) ? n : i64ToDecimal(r.lo, r.hi);
        break;
      }
      case AV.boolValue:
        value = varint32(r, end) !== 0;
        break;
      case AV.doubleValue:
        if (r.pos + 8 > end) throw outOfRange(r, 8, end);
        value = doubleValue(r.buf.readDoubleLE(r.pos));
        r.pos += 8;
        break;
      case AV.arrayValue: {
        const e = lenEnd(r, end);
        const out: Json[] = [];
        while (r.pos < e) {
          const t = varint32(r, e);
          if (t === AR.values) {
            const ve = lenEnd(r, e);
            out.push(readAnyValue(r, ve, depth + 1));
          } else skipField(r, t, e, depth, W_AR);
        }
        checkEnd(r, e);
        value = out;
        break;
      }
      case AV.kvlistValue: {
        const e = lenEnd(r, end);
        const out: Attributes = {};
        while (r.pos < e) {
          const t = varint32(r, e);
          if (t === KL.values) readKeyValue(r, lenEnd(r, e), out, depth + 1);
          else skipField(r, t, e, depth, W_KL);
        }
        checkEnd(r, e);
        value = out;
        break;
      }
      case AV.bytesValue: {
        const e = lenEnd(r, end);
        value = r.buf.toString('base64', r.pos, e);
        r.pos = e;
        break;
      }
      default:
        skipField(r, tag, end, depth, W_AV);
    }
  }
  checkEnd(r, end);
  return value;
}

/** Signed 64-bit halves → decimal string (only for values beyond 2^53). */
function i64ToDecimal(lo: number, hi: number): string {
  if ((hi & 0x80000000) === 0) return u64ToDecimal(lo, hi);
  // Two's complement negate, then prefix the sign.
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return `-${u64ToDecimal(nlo, nhi)}`;
}

function readKeyValue(r: Wire, end: number, out: Attributes, depth: number): void {
  let key = '';
  let value: Json = null;
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === KV.key) key = str(r, end);
    else if (tag === KV.value) value = readAnyValue(r, lenEnd(r, end), depth);
    else skipField(r, tag, end, depth, W_KV);
  }
  checkEnd(r, end);
  setAttr(out, key, value);
}

/** Reads one repeated KeyValue entry into `out` (the caller has consumed the tag). */
function readAttribute(r: Wire, end: number, out: Attributes): void {
  readKeyValue(r, lenEnd(r, end), out, 0);
}

function readResource(r: Wire, end: number): Resource {
  const attributes: Attributes = {};
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === RES.attributes) readAttribute(r, end, attributes);
    else skipField(r, tag, end, 0, W_RES);
  }
  checkEnd(r, end);
  return { attributes };
}

function readScope(r: Wire, end: number): Scope {
  let name = '';
  let version = '';
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === SC.name) name = str(r, end);
    else if (tag === SC.version) version = str(r, end);
    else skipField(r, tag, end, 0, W_SC);
  }
  checkEnd(r, end);
  return { name, version };
}

function readStatus(r: Wire, end: number): Span['status'] {
  let code: StatusCode = 0;
  let message = '';
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === ST.code) code = statusCode(varint32(r, end) | 0);
    else if (tag === ST.message) message = str(r, end);
    else skipField(r, tag, end, 0, W_ST);
  }
  checkEnd(r, end);
  return { code, message };
}

function readEvent(r: Wire, end: number): SpanEvent {
  let timeNs = '0';
  let name = '';
  const attributes: Attributes = {};
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === EV.timeUnixNano) timeNs = fixed64Decimal(r, end);
    else if (tag === EV.name) name = str(r, end);
    else if (tag === EV.attributes) readAttribute(r, end, attributes);
    else skipField(r, tag, end, 0, W_EV);
  }
  checkEnd(r, end);
  return { timeNs, name, attributes };
}

function readLink(r: Wire, end: number): SpanLink {
  let traceId = '';
  let spanId = '';
  const attributes: Attributes = {};
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === LK.traceId) traceId = hex(r, end);
    else if (tag === LK.spanId) spanId = hex(r, end);
    else if (tag === LK.attributes) readAttribute(r, end, attributes);
    else skipField(r, tag, end, 0, W_LK);
  }
  checkEnd(r, end);
  return { traceId, spanId, attributes };
}

function readSpan(r: Wire, end: number): Span {
  const span: Span = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    startTimeNs: '0',
    endTimeNs: '0',
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
  };
  while (r.pos < end) {
    const tag = varint32(r, end);
    switch (tag) {
      case SP.traceId:
        span.traceId = hex(r, end);
        break;
      case SP.spanId:
        span.spanId = hex(r, end);
        break;
      case SP.parentSpanId:
        span.parentSpanId = parentId(hex(r, end));
        break;
      case SP.traceState:
        span.traceState = str(r, end);
        break;
      case SP.name:
        span.name = str(r, end);
        break;
      case SP.kind:
        span.kind = varint32(r, end) | 0;
        break;
      case SP.startTimeUnixNano:
        span.startTimeNs = fixed64Decimal(r, end);
        break;
      case SP.endTimeUnixNano:
        span.endTimeNs = fixed64Decimal(r, end);
        break;
      case SP.attributes:
        readAttribute(r, end, span.attributes);
        break;
      case SP.events:
        span.events.push(readEvent(r, lenEnd(r, end)));
        break;
      case SP.links:
        span.links.push(readLink(r, lenEnd(r, end)));
        break;
      case SP.status:
        span.status = readStatus(r, lenEnd(r, end));
        break;
      default:
        skipField(r, tag, end, 0, W_SP);
    }
  }
  checkEnd(r, end);
  return span;
}

function readScopeSpans(r: Wire, end: number): ScopeSpans {
  let scope: Scope | null = null;
  const spans: Span[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === SS.spans) spans.push(readSpan(r, lenEnd(r, end)));
    else if (tag === SS.scope) scope = readScope(r, lenEnd(r, end));
    else skipField(r, tag, end, 0, W_SS);
  }
  checkEnd(r, end);
  return { scope: scope ?? { name: '', version: '' }, spans };
}

function readResourceSpans(r: Wire, end: number): ResourceSpans {
  let resource: Resource | null = null;
  const scopeSpans: ScopeSpans[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === RS.scopeSpans) scopeSpans.push(readScopeSpans(r, lenEnd(r, end)));
    else if (tag === RS.resource) resource = readResource(r, lenEnd(r, end));
    else skipField(r, tag, end, 0, W_RS);
  }
  checkEnd(r, end);
  return { resource: resource ?? { attributes: {} }, scopeSpans };
}

function traceFromPb(r: Wire): TraceRequest {
  const end = r.buf.length;
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === TRACE_REQ.resourceSpans) resourceSpans.push(readResourceSpans(r, lenEnd(r, end)));
    else skipField(r, tag, end, 0, W_TRACE_REQ);
  }
  return { resourceSpans };
}

function readLogRecord(r: Wire, end: number): LogRecord {
  const rec: LogRecord = {
    timeNs: '0',
    observedTimeNs: '0',
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    traceId: '',
    spanId: '',
    eventName: '',
  };
  while (r.pos < end) {
    const tag = varint32(r, end);
    switch (tag) {
      case LR.timeUnixNano:
        rec.timeNs = fixed64Decimal(r, end);
        break;
      case LR.observedTimeUnixNano:
        rec.observedTimeNs = fixed64Decimal(r, end);
        break;
      case LR.severityNumber:
        rec.severityNumber = varint32(r, end) | 0;
        break;
      case LR.severityText:
        rec.severityText = str(r, end);
        break;
      case LR.body:
        rec.body = readAnyValue(r, lenEnd(r, end), 0);
        break;
      case LR.attributes:
        readAttribute(r, end, rec.attributes);
        break;
      case LR.traceId:
        rec.traceId = hex(r, end);
        break;
      case LR.spanId:
        rec.spanId = hex(r, end);
        break;
      case LR.eventName:
        rec.eventName = str(r, end);
        break;
      default:
        skipField(r, tag, end, 0, W_LR);
    }
  }
  checkEnd(r, end);
  rec.eventName = eventNameOf(rec.eventName, rec.attributes);
  return rec;
}

function readScopeLogs(r: Wire, end: number): ScopeLogs {
  let scope: Scope | null = null;
  const logRecords: LogRecord[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === SL.logRecords) logRecords.push(readLogRecord(r, lenEnd(r, end)));
    else if (tag === SL.scope) scope = readScope(r, lenEnd(r, end));
    else skipField(r, tag, end, 0, W_SL);
  }
  checkEnd(r, end);
  return { scope: scope ?? { name: '', version: '' }, logRecords };
}

function readResourceLogs(r: Wire, end: number): ResourceLogs {
  let resource: Resource | null = null;
  const scopeLogs: ScopeLogs[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === RL.scopeLogs) scopeLogs.push(readScopeLogs(r, lenEnd(r, end)));
    else if (tag === RL.resource) resource = readResource(r, lenEnd(r, end));
    else skipField(r, tag, end, 0, W_RL);
  }
  checkEnd(r, end);
  return { resource: resource ?? { attributes: {} }, scopeLogs };
}

function logsFromPb(r: Wire): LogsRequest {
  const end = r.buf.length;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === LOGS_REQ.resourceLogs) resourceLogs.push(readResourceLogs(r, lenEnd(r, end)));
    else skipField(r, tag, end, 0, W_LOGS_REQ);
  }
  return { resourceLogs };
}

// ---------------------------------------------------------------------------------------------
// Id-only scan
//
// The Kafka evaluator needs of a message only each span's ids and its resource's project. This walks the
// same wire with the same tags and rules as the decoder above but steps over everything else by its
// length prefix, so it allocates little more than the id strings. What lies inside a skipped field
// (attributes, events, links, scope) is not looked at: a message broken only in there scans fine although
// the full decoder refuses it.
// ---------------------------------------------------------------------------------------------

/** One ResourceSpans, ids only. */
export interface ResourceSpanIds {
  /** Those of the requested resource attributes that are present, read as the decoder reads them. */
  attributes: Attributes;
  /** Per ScopeSpans, the spans `validateTraceRequest` keeps; groups left empty are dropped, as it does. */
  scopes: SpanIds[][];
}

/** The previous trace id read in this body: the spans of one trace repeat it, and then share its string. */
interface LastId {
  start: number;
  end: number;
  hex: string;
}

/**
 * The spans of a protobuf ExportTraceServiceRequest by id, as `validateTraceRequest(decodeTraceProtobuf(body))`
 * would keep and group them, with only the resource attributes named in `resourceKeys`. Throws
 * OtlpDecodeError where the decoder would on what it walks.
 */
export function scanTraceIdsProtobuf(body: Buffer, resourceKeys: readonly string[]): ResourceSpanIds[] {
  const keys = resourceKeys.map((k) => Buffer.from(k, 'utf8'));
  return runWire(body, (r) => {
    const end = r.buf.length;
    const last: LastId = { start: 0, end: 0, hex: '' };
    const out: ResourceSpanIds[] = [];
    while (r.pos < end) {
      const tag = varint32(r, end);
      if (tag === TRACE_REQ.resourceSpans) {
        const rs = scanResourceSpans(r, lenEnd(r, end), keys, last);
        if (rs.scopes.length > 0) out.push(rs);
      } else skip(r, tag, end, 0);
    }
    return out;
  });
}

function scanResourceSpans(r: Wire, end: number, keys: readonly Buffer[], last: LastId): ResourceSpanIds {
  let attributes: Attributes = {};
  const scopes: SpanIds[][] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === RS.scopeSpans) {
      const spans = scanScopeSpans(r, lenEnd(r, end), last);
      if (spans.length > 0) scopes.push(spans);
    } else if (tag === RS.resource && keys.length > 0)
      attributes = scanResource(r, lenEnd(r, end), keys); // the last one wins, as in readResourceSpans
    else skip(r, tag, end, 0);
  }
  checkEnd(r, end);
  return { attributes, scopes };
}

/** The attributes among `keys`, each read by readKeyValue (so a repeated key keeps its last value, as in readResource). */
function scanResource(r: Wire, end: number, keys: readonly Buffer[]): Attributes {
  const attributes: Attributes = {};
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag !== RES.attributes) {
      skip(r, tag, end, 0);
      continue;
    }
    const e = lenEnd(r, end);
    const start = r.pos;
    let keyStart = -1;
    let keyEnd = -1;
    while (r.pos < e) {
      const t = varint32(r, e);
      if (t === KV.key) {
        keyEnd = lenEnd(r, e);
        keyStart = r.pos;
        r.pos = keyEnd;
      } else skip(r, t, e, 0);
    }
    checkEnd(r, e);
    if (keyStart >= 0 && isOneOf(r.buf, keyStart, keyEnd, keys)) {
      r.pos = start;
      readKeyValue(r, e, attributes, 0);
    }
  }
  checkEnd(r, end);
  return attributes;
}

/** Bytes compared, not decoded: UTF-8 decoding is one-to-one on valid input and the keys are valid. */
function isOneOf(buf: Buffer, start: number, end: number, keys: readonly Buffer[]): boolean {
  for (const k of keys) if (k.length === end - start && buf.compare(k, 0, k.length, start, end) === 0) return true;
  return false;
}

function scanScopeSpans(r: Wire, end: number, last: LastId): SpanIds[] {
  const spans: SpanIds[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === SS.spans) {
      const s = scanSpan(r, lenEnd(r, end), last);
      // Times need no check: a fixed64 always reads as a valid one, and an absent one as 0.
      if (spanIdsProblem(s) === null) spans.push(s);
    } else skip(r, tag, end, 0);
  }
  checkEnd(r, end);
  return spans;
}

function scanSpan(r: Wire, end: number, last: LastId): SpanIds {
  const ids: SpanIds = { traceId: '', spanId: '', parentSpanId: '' };
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === SP.traceId) ids.traceId = traceHex(r, end, last);
    else if (tag === SP.spanId) ids.spanId = hex(r, end);
    else if (tag === SP.parentSpanId) ids.parentSpanId = parentId(hex(r, end));
    else skip(r, tag, end, 0);
  }
  checkEnd(r, end);
  return ids;
}

/** hex(), reusing the previous trace id's string when the bytes are the same. */
function traceHex(r: Wire, end: number, last: LastId): string {
  const e = lenEnd(r, end);
  const buf = r.buf;
  if (e - r.pos !== last.end - last.start || buf.compare(buf, last.start, last.end, r.pos, e) !== 0) {
    last.hex = buf.toString('hex', r.pos, e);
    last.start = r.pos;
    last.end = e;
  }
  r.pos = e;
  return last.hex;
}

// ---------------------------------------------------------------------------------------------
// Wire regrouping: a trace request's resource, scope and span slices, without building spans
//
// The Kafka bus carries one OTLP message per trace. Decoding a request into objects only to encode them
// again per trace cost most of the receiver's CPU, so this walks the request as the decoder does (every
// nested field checked exactly as `decodeTraceProtobuf` checks it, so a body one refuses the other does
// too), reads only what validation, projects and the time window need (ids, start time, resource
// attributes), and remembers byte ranges for `encodeTraceMessage` to re-frame.
// ---------------------------------------------------------------------------------------------

/** One span of a walked request: its payload's byte range and what ingest decides on. */
export interface WireSpan {
  start: number;
  end: number;
  /** Lower-case hex of the last trace_id field ('' when absent): the message key. */
  traceId: string;
  /** start_time_unix_nano, 0n when absent. */
  startNs: bigint;
  /** Why validation drops it (as validateTraceRequest says it), or null. */
  problem: string | null;
  /** Its name, read only for a span with a problem (the error message names it). */
  name: string;
}

export interface WireScopeSpans {
  /** Complete fields (tag + payload) of the ScopeSpans other than its spans: scope, schema_url, unknown ones. */
  head: number[];
  headBytes: number;
  spans: WireSpan[];
}

export interface WireResourceSpans {
  /** The resource's attributes (of the last `resource` field, as the decoder keeps). */
  attributes: Attributes;
  /** Complete fields of the ResourceSpans other than its scope_spans, as [start, end) pairs. */
  head: number[];
  headBytes: number;
  scopeSpans: WireScopeSpans[];
}

/** A request walked on the wire; `body` is what the ranges index. */
export interface WireTraceRequest {
  body: Buffer;
  resourceSpans: WireResourceSpans[];
}

/**
 * Walks a protobuf ExportTraceServiceRequest for regrouping. Throws OtlpDecodeError exactly where
 * `decodeTraceProtobuf` would, with its message.
 */
export function walkTraceProtobuf(body: Buffer): WireTraceRequest {
  try {
    return walkTrace({ buf: body, pos: 0, lo: 0, hi: 0 });
  } catch (err) {
    if (!(err instanceof WireError || err instanceof RangeError)) throw err;
    // The walk checks what the decoder checks; the decoder's own error says it in its words.
    decodeTraceProtobuf(body);
    throw new OtlpDecodeError(`invalid protobuf: ${err.message}`);
  }
}

function walkTrace(r: Wire): WireTraceRequest {
  const end = r.buf.length;
  const last: LastId = { start: 0, end: 0, hex: '' };
  const resourceSpans: WireResourceSpans[] = [];
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === TRACE_REQ.resourceSpans) resourceSpans.push(walkResourceSpans(r, lenEnd(r, end), last));
    else skipField(r, tag, end, 0, W_TRACE_REQ);
  }
  return { body: r.buf, resourceSpans };
}

function walkResourceSpans(r: Wire, end: number, last: LastId): WireResourceSpans {
  const rs: WireResourceSpans = { attributes: {}, head: [], headBytes: 0, scopeSpans: [] };
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = varint32(r, end);
    if (tag === RS.scopeSpans) {
      rs.scopeSpans.push(walkScopeSpans(r, lenEnd(r, end), last));
      continue;
    }
    if (tag === RS.resource) rs.attributes = readResource(r, lenEnd(r, end)).attributes;
    else skipField(r, tag, end, 0, W_RS);
    rs.head.push(fieldStart, r.pos);
    rs.headBytes += r.pos - fieldStart;
  }
  checkEnd(r, end);
  return rs;
}

function walkScopeSpans(r: Wire, end: number, last: LastId): WireScopeSpans {
  const ss: WireScopeSpans = { head: [], headBytes: 0, spans: [] };
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = varint32(r, end);
    if (tag === SS.spans) {
      ss.spans.push(walkSpan(r, lenEnd(r, end), last));
      continue;
    }
    if (tag === SS.scope) readScope(r, lenEnd(r, end));
    else skipField(r, tag, end, 0, W_SS);
    ss.head.push(fieldStart, r.pos);
    ss.headBytes += r.pos - fieldStart;
  }
  checkEnd(r, end);
  return ss;
}

/** Byte range of a length-delimited payload; the cursor moves past it. */
function lenRange(r: Wire, end: number, out: { s: number; e: number }): void {
  const e = lenEnd(r, end);
  out.s = r.pos;
  out.e = e;
  r.pos = e;
}

function isZero(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] !== 0) return false;
  return true;
}

// Scratch ranges of the span being walked (the walk is synchronous and not reentrant).
const skipped = { s: 0, e: 0 };
const spanId = { s: 0, e: 0 };
const parent = { s: 0, e: 0 };
const spanName = { s: 0, e: 0 };

function walkSpan(r: Wire, end: number, last: LastId): WireSpan {
  const start = r.pos;
  const buf = r.buf;
  let traceId = '';
  let startNs = 0n;
  spanId.s = spanId.e = parent.s = parent.e = spanName.s = spanName.e = 0;
  while (r.pos < end) {
    const tag = varint32(r, end);
    switch (tag) {
      case SP.traceId:
        traceId = traceHex(r, end, last);
        break;
      case SP.spanId:
        lenRange(r, end, spanId);
        break;
      case SP.parentSpanId:
        lenRange(r, end, parent);
        break;
      case SP.name:
        lenRange(r, end, spanName);
        break;
      case SP.traceState:
        lenRange(r, end, skipped);
        break;
      case SP.kind:
        varint32(r, end);
        break;
      case SP.startTimeUnixNano:
        if (r.pos + 8 > end) throw outOfRange(r, 8, end);
        startNs = (BigInt(u32le(buf, r.pos + 4)) << 32n) | BigInt(u32le(buf, r.pos));
        r.pos += 8;
        break;
      case SP.endTimeUnixNano:
        if (r.pos + 8 > end) throw outOfRange(r, 8, end);
        r.pos += 8;
        break;
      case SP.attributes:
        checkKeyValue(r, lenEnd(r, end), 0);
        break;
      case SP.events:
        checkEvent(r, lenEnd(r, end));
        break;
      case SP.links:
        checkLink(r, lenEnd(r, end));
        break;
      case SP.status:
        checkStatus(r, lenEnd(r, end));
        break;
      default:
        skipField(r, tag, end, 0, W_SP);
    }
  }
  checkEnd(r, end);
  // Hex of bytes is always valid hex, so only lengths and zeros can be wrong (the rule of spanIdsProblem).
  const spanLen = spanId.e - spanId.s;
  const parentLen = parent.e - parent.s;
  const ok = traceId.length === 32 && traceId !== ZERO_TRACE_HEX && spanLen === 8 && !isZero(buf, spanId.s, spanId.e) && (parentLen === 0 || parentLen === 8);
  if (ok) return { start, end, traceId, startNs, problem: null, name: '' };
  const ids: SpanIds = {
    traceId,
    spanId: buf.toString('hex', spanId.s, spanId.e),
    parentSpanId: parentId(buf.toString('hex', parent.s, parent.e)),
  };
  return { start, end, traceId, startNs, problem: spanIdsProblem(ids), name: buf.toString('utf8', spanName.s, spanName.e) };
}

const ZERO_TRACE_HEX = '0'.repeat(32);

/** What readKeyValue checks, without building the value. */
function checkKeyValue(r: Wire, end: number, depth: number): void {
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === KV.key) r.pos = lenEnd(r, end);
    else if (tag === KV.value) checkAnyValue(r, lenEnd(r, end), depth);
    else skipField(r, tag, end, depth, W_KV);
  }
  checkEnd(r, end);
}

/** What readAnyValue checks, without building the value. */
function checkAnyValue(r: Wire, end: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireError('max depth exceeded');
  while (r.pos < end) {
    const tag = varint32(r, end);
    switch (tag) {
      case AV.stringValue:
      case AV.bytesValue:
        r.pos = lenEnd(r, end);
        break;
      case AV.intValue:
        varint64(r, end);
        break;
      case AV.boolValue:
        varint32(r, end);
        break;
      case AV.doubleValue:
        if (r.pos + 8 > end) throw outOfRange(r, 8, end);
        r.pos += 8;
        break;
      case AV.arrayValue: {
        const e = lenEnd(r, end);
        while (r.pos < e) {
          const t = varint32(r, e);
          if (t === AR.values) checkAnyValue(r, lenEnd(r, e), depth + 1);
          else skipField(r, t, e, depth, W_AR);
        }
        checkEnd(r, e);
        break;
      }
      case AV.kvlistValue: {
        const e = lenEnd(r, end);
        while (r.pos < e) {
          const t = varint32(r, e);
          if (t === KL.values) checkKeyValue(r, lenEnd(r, e), depth + 1);
          else skipField(r, t, e, depth, W_KL);
        }
        checkEnd(r, e);
        break;
      }
      default:
        skipField(r, tag, end, depth, W_AV);
    }
  }
  checkEnd(r, end);
}

function checkEvent(r: Wire, end: number): void {
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === EV.timeUnixNano) {
      if (r.pos + 8 > end) throw outOfRange(r, 8, end);
      r.pos += 8;
    } else if (tag === EV.name) r.pos = lenEnd(r, end);
    else if (tag === EV.attributes) checkKeyValue(r, lenEnd(r, end), 0);
    else skipField(r, tag, end, 0, W_EV);
  }
  checkEnd(r, end);
}

function checkLink(r: Wire, end: number): void {
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === LK.traceId || tag === LK.spanId) r.pos = lenEnd(r, end);
    else if (tag === LK.attributes) checkKeyValue(r, lenEnd(r, end), 0);
    else skipField(r, tag, end, 0, W_LK);
  }
  checkEnd(r, end);
}

function checkStatus(r: Wire, end: number): void {
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === ST.code) varint32(r, end);
    else if (tag === ST.message) r.pos = lenEnd(r, end);
    else skipField(r, tag, end, 0, W_ST);
  }
  checkEnd(r, end);
}

/** Tags of the three fields a per-trace message frames (each one byte: field numbers below 16). */
export const FRAME_TAGS = { resourceSpans: TRACE_REQ.resourceSpans, scopeSpans: RS.scopeSpans, spans: SS.spans } as const;
