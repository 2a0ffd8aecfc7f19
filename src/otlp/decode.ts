/**
 * OTLP export request bodies (protobuf or OTLP/JSON) → the plain model of `src/model/otlp.ts`.
 *
 * Both paths walk their input once and build the model directly: the protobuf path reads the wire
 * format itself (tags taken from the protobufjs-loaded schema), the JSON path walks JSON.parse
 * output. Nothing here rejects individual spans: malformed ids and times are passed through for
 * `validate.ts` to reject, so one bad span does not fail a whole batch. Only undecodable bodies
 * throw `OtlpDecodeError`.
 */
import type {
  AttrValue,
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
  SpanLink,
  StatusCode,
  TraceRequest,
} from '../model/otlp.js';
import { SeverityNumberEnum, SpanKindEnum, StatusCodeEnum, fieldTags } from './proto.js';

export type OtlpFormat = 'protobuf' | 'json';

/** The request body could not be decoded at all (maps to HTTP 400 / gRPC INVALID_ARGUMENT). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

export function decodeTraceRequest(body: Buffer, format: OtlpFormat): TraceRequest {
  if (format === 'json') return traceFromJson(parseJson(body));
  return runWire(body, traceFromPb);
}

export function decodeLogsRequest(body: Buffer, format: OtlpFormat): LogsRequest {
  if (format === 'json') return logsFromJson(parseJson(body));
  return runWire(body, logsFromPb);
}

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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/** Nesting bound for AnyValue / groups, against stack exhaustion (protobufjs' default limit too). */
const MAX_DEPTH = 100;

/** Assigns an attribute; `__proto__` would otherwise replace the object's prototype. */
function setAttr(out: Attributes, key: string, value: AttrValue): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

/** Non-finite doubles become strings, as the OTel AnyValue→JSON mapping prescribes (JSON has no NaN). */
function doubleValue(d: number): AttrValue {
  return Number.isFinite(d) ? d : String(d);
}

function pad7(n: number): string {
  const s = String(n);
  return s.length >= 7 ? s : '0000000'.slice(s.length) + s;
}

/**
 * Unsigned 64-bit (lo, hi int32 halves) → decimal string without BigInt or Long division: split into
 * 24/24/16-bit limbs and accumulate in base 1e7 (every partial sum stays below 2^53).
 */
export function u64ToDecimal(lo: number, hi: number): string {
  const l = lo >>> 0;
  const h = hi >>> 0;
  if (h < 0x200000) return String(h * 4294967296 + l);
  const low = l & 0xffffff;
  const mid = ((l >>> 24) | (h << 8)) & 0xffffff;
  const high = h >>> 16;
  let d0 = low + mid * 6777216 + high * 6710656;
  let d1 = mid + high * 8147497;
  let d2 = high * 2;
  d1 += Math.floor(d0 / 1e7);
  d0 %= 1e7;
  d2 += Math.floor(d1 / 1e7);
  d1 %= 1e7;
  return d2 > 0 ? String(d2) + pad7(d1) + pad7(d0) : String(d1) + pad7(d0);
}

// ---------------------------------------------------------------------------------------------
// Protobuf path
//
// protobufjs' reflection decoder is correct but slow for this workload (it validates UTF-8 in JS,
// deletes sibling oneof members on every AnyValue, and allocates Buffers and Longs per id and time),
// so the body is walked on the wire directly. Field tags come from the loaded schema (`fieldTags`),
// unknown fields and known fields with an unexpected wire type are skipped, as protobufjs does.
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

/** Every message reader ends exactly at its boundary, or the length prefixes lied. */
function checkEnd(r: Wire, end: number): void {
  if (r.pos !== end) throw outOfRange(r, 0, end);
}

function readAnyValue(r: Wire, end: number, depth: number): AttrValue {
  if (depth > MAX_DEPTH) throw new WireError('max depth exceeded');
  let value: AttrValue = null; // oneof: the last member on the wire wins
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
        const out: AttrValue[] = [];
        while (r.pos < e) {
          const t = varint32(r, e);
          if (t === AR.values) {
            const ve = lenEnd(r, e);
            out.push(readAnyValue(r, ve, depth + 1));
          } else skip(r, t, e, depth);
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
          else skip(r, t, e, depth);
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
        skip(r, tag, end, depth);
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
  return '-' + u64ToDecimal(nlo, nhi);
}

function readKeyValue(r: Wire, end: number, out: Attributes, depth: number): void {
  let key = '';
  let value: AttrValue = null;
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === KV.key) key = str(r, end);
    else if (tag === KV.value) value = readAnyValue(r, lenEnd(r, end), depth);
    else skip(r, tag, end, depth);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
  }
  checkEnd(r, end);
  return { name, version };
}

function statusCode(n: number): StatusCode {
  // The enum is open on the wire; values outside the spec read as UNSET.
  return n === 1 || n === 2 ? n : 0;
}

function readStatus(r: Wire, end: number): Span['status'] {
  let code: StatusCode = 0;
  let message = '';
  while (r.pos < end) {
    const tag = varint32(r, end);
    if (tag === ST.code) code = statusCode(varint32(r, end) | 0);
    else if (tag === ST.message) message = str(r, end);
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
  }
  checkEnd(r, end);
  return { traceId, spanId, attributes };
}

const ZERO_PARENT = '0000000000000000';
/** Some exporters send an all-zero parent for a root span: it means "no parent". */
const parentId = (id: string): string => (id === ZERO_PARENT ? '' : id);

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
        skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
  }
  return { resourceSpans };
}

/** LogRecord.event_name, else the `event.name` attribute that predates field 12. */
function eventNameOf(fieldValue: string, attributes: Attributes): string {
  if (fieldValue !== '') return fieldValue;
  const attr = attributes['event.name'];
  return typeof attr === 'string' ? attr : '';
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
        skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
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
    else skip(r, tag, end, 0);
  }
  return { resourceLogs };
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON path
// ---------------------------------------------------------------------------------------------

type JsonObject = { [key: string]: unknown };

/** A type mismatch inside the JSON document; `path` is collected innermost-first while unwinding. */
class JsonShapeError extends Error {
  readonly path: string[] = [];
}

function shape(message: string, field?: string): JsonShapeError {
  const e = new JsonShapeError(message);
  if (field) e.path.push(field);
  return e;
}

/** Adds the enclosing path segment to a shape error on its way out. */
function within(err: unknown, segment: string): unknown {
  if (err instanceof JsonShapeError) err.path.push(segment);
  return err;
}

function parseJson(body: Buffer): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${errorText(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new OtlpDecodeError('invalid JSON at $: expected an object');
  }
  return doc as JsonObject;
}

/** Runs a JSON walker, turning shape errors into `OtlpDecodeError` with a readable path. */
function runJson<T>(walk: () => T): T {
  try {
    return walk();
  } catch (err) {
    if (err instanceof JsonShapeError) {
      const path = err.path.reverse().join('.').replace(/\.\[/g, '[');
      throw new OtlpDecodeError(`invalid JSON at ${path}: ${err.message}`);
    }
    if (err instanceof RangeError) throw new OtlpDecodeError(`invalid JSON: ${err.message}`);
    throw err;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return String(v);
}

/** Field lookup under the lowerCamelCase JSON name, else the proto (snake_case) name. */
function field(o: JsonObject, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

function jObject(v: unknown, name: string): JsonObject | null {
  if (v == null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw shape(`expected an object, got ${describe(v)}`, name);
  return v as JsonObject;
}

const NO_ITEMS: readonly unknown[] = [];

function jArray(v: unknown, name: string): readonly unknown[] {
  if (v == null) return NO_ITEMS;
  if (!Array.isArray(v)) throw shape(`expected an array, got ${describe(v)}`, name);
  return v;
}

function jString(v: unknown, name: string): string {
  if (v == null) return '';
  if (typeof v !== 'string') throw shape(`expected a string, got ${describe(v)}`, name);
  return v;
}

/** Ids are hex in OTLP/JSON. Anything is kept (lower-cased) so validation can reject just that span. */
function jId(v: unknown): string {
  if (v == null) return '';
  return (typeof v === 'string' ? v : String(v)).toLowerCase();
}

const DIGITS = /^[0-9]+$/;

/**
 * fixed64 nanoseconds: JSON sends a decimal string or a number. Canonical values become decimal
 * strings; anything else is kept as text so validation rejects the span rather than the request.
 */
function jTime(v: unknown): string {
  if (v == null) return '0';
  if (typeof v === 'string') {
    if (v.length > 1 && v.charCodeAt(0) === 48 /* 0 */ && DIGITS.test(v)) return BigInt(v).toString();
    return v;
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0) return v < 1e21 ? String(v) : BigInt(v).toString();
    return String(v);
  }
  return String(v);
}

/** int32 / enum fields: integers, integer strings, or (for enums) the value name. */
function jEnum(v: unknown, name: string, values: { [k: string]: number } | null): number {
  if (v == null) return 0;
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
  } else if (typeof v === 'string') {
    if (values !== null) {
      const byName = values[v];
      if (byName !== undefined) return byName;
    }
    if (/^-?[0-9]+$/.test(v)) return Number(v);
    // proto3 JSON parsers that ignore unknown fields also map unknown enum names to the default.
    if (values !== null) return 0;
  }
  throw shape(`expected ${values === null ? 'an integer' : 'an enum number or name'}, got ${describe(v)}`, name);
}

const INT_TEXT = /^-?[0-9]+$/;

function jInt64(v: unknown, name: string): AttrValue {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw shape(`expected an integer, got ${describe(v)}`, name);
    // A JSON number beyond 2^53 already lost precision in JSON.parse; render what is left.
    return Number.isSafeInteger(v) ? v : BigInt(v).toString();
  }
  if (typeof v === 'string' && INT_TEXT.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    const big = BigInt(v);
    if (big > 9223372036854775807n || big < -9223372036854775808n) {
      throw shape(`integer out of int64 range: ${describe(v)}`, name);
    }
    return big.toString();
  }
  throw shape(`expected an integer, got ${describe(v)}`, name);
}

function jDouble(v: unknown, name: string): AttrValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    // proto3 JSON spells non-finite doubles as strings; numeric strings are also allowed.
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return doubleValue(n);
  }
  throw shape(`expected a number, got ${describe(v)}`, name);
}

/** Standard padded base64, whichever base64 flavour (standard / URL-safe, padded or not) arrived. */
function jBytes(v: unknown, name: string): string {
  if (typeof v !== 'string') throw shape(`expected a base64 string, got ${describe(v)}`, name);
  return Buffer.from(v, 'base64').toString('base64');
}

function jAnyValue(v: unknown, depth: number): AttrValue {
  if (v == null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw shape(`expected an AnyValue object, got ${describe(v)}`);
  if (depth > MAX_DEPTH) throw shape('AnyValue nested too deeply');
  const o = v as JsonObject;
  let x = field(o, 'stringValue', 'string_value');
  if (x != null) {
    if (typeof x !== 'string') throw shape(`expected a string, got ${describe(x)}`, 'stringValue');
    return x;
  }
  if ((x = field(o, 'intValue', 'int_value')) != null) return jInt64(x, 'intValue');
  if ((x = field(o, 'boolValue', 'bool_value')) != null) {
    if (typeof x !== 'boolean') throw shape(`expected a boolean, got ${describe(x)}`, 'boolValue');
    return x;
  }
  if ((x = field(o, 'doubleValue', 'double_value')) != null) return jDouble(x, 'doubleValue');
  if ((x = field(o, 'arrayValue', 'array_value')) !== undefined) {
    const arr = jObject(x, 'arrayValue');
    const src = arr === null ? NO_ITEMS : jArray(arr['values'], 'values');
    const out: AttrValue[] = new Array<AttrValue>(src.length);
    for (let i = 0; i < src.length; i++) {
      try {
        out[i] = jAnyValue(src[i], depth + 1);
      } catch (err) {
        throw within(within(within(err, `[${i}]`), 'values'), 'arrayValue');
      }
    }
    return out;
  }
  if ((x = field(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
    const kvl = jObject(x, 'kvlistValue');
    try {
      return jAttributes(kvl === null ? undefined : kvl['values'], 'values', depth + 1);
    } catch (err) {
      throw within(err, 'kvlistValue');
    }
  }
  if ((x = field(o, 'bytesValue', 'bytes_value')) != null) return jBytes(x, 'bytesValue');
  return null;
}

function jAttributes(v: unknown, name: string, depth: number): Attributes {
  const list = jArray(v, name);
  const out: Attributes = {};
  for (let i = 0; i < list.length; i++) {
    try {
      const kv = jObject(list[i], '');
      if (kv === null) continue;
      const key = jString(kv['key'], 'key');
      let value: AttrValue;
      try {
        value = jAnyValue(kv['value'], depth);
      } catch (err) {
        throw within(err, 'value');
      }
      setAttr(out, key, value);
    } catch (err) {
      throw within(within(err, `[${i}]`), name);
    }
  }
  return out;
}

function jResource(v: unknown): Resource {
  const r = jObject(v, 'resource');
  if (r === null) return { attributes: {} };
  try {
    return { attributes: jAttributes(r['attributes'], 'attributes', 0) };
  } catch (err) {
    throw within(err, 'resource');
  }
}

function jScope(v: unknown): Scope {
  const s = jObject(v, 'scope');
  if (s === null) return { name: '', version: '' };
  try {
    return { name: jString(s['name'], 'name'), version: jString(s['version'], 'version') };
  } catch (err) {
    throw within(err, 'scope');
  }
}

function jEvent(v: unknown): SpanEvent {
  const e = jObject(v, '') ?? {};
  return {
    timeNs: jTime(field(e, 'timeUnixNano', 'time_unix_nano')),
    name: jString(e['name'], 'name'),
    attributes: jAttributes(e['attributes'], 'attributes', 0),
  };
}

function jLink(v: unknown): SpanLink {
  const l = jObject(v, '') ?? {};
  return {
    traceId: jId(field(l, 'traceId', 'trace_id')),
    spanId: jId(field(l, 'spanId', 'span_id')),
    attributes: jAttributes(l['attributes'], 'attributes', 0),
  };
}

function jSpan(v: unknown): Span {
  const s = jObject(v, '') ?? {};
  const srcEvents = jArray(s['events'], 'events');
  const events: SpanEvent[] = new Array<SpanEvent>(srcEvents.length);
  for (let i = 0; i < srcEvents.length; i++) {
    try {
      events[i] = jEvent(srcEvents[i]);
    } catch (err) {
      throw within(within(err, `[${i}]`), 'events');
    }
  }
  const srcLinks = jArray(s['links'], 'links');
  const links: SpanLink[] = new Array<SpanLink>(srcLinks.length);
  for (let i = 0; i < srcLinks.length; i++) {
    try {
      links[i] = jLink(srcLinks[i]);
    } catch (err) {
      throw within(within(err, `[${i}]`), 'links');
    }
  }
  const st = jObject(s['status'], 'status');
  let status: Span['status'];
  if (st === null) {
    status = { code: 0, message: '' };
  } else {
    try {
      status = { code: statusCode(jEnum(st['code'], 'code', StatusCodeEnum.values)), message: jString(st['message'], 'message') };
    } catch (err) {
      throw within(err, 'status');
    }
  }
  return {
    traceId: jId(field(s, 'traceId', 'trace_id')),
    spanId: jId(field(s, 'spanId', 'span_id')),
    parentSpanId: parentId(jId(field(s, 'parentSpanId', 'parent_span_id'))),
    traceState: jString(field(s, 'traceState', 'trace_state'), 'traceState'),
    name: jString(s['name'], 'name'),
    kind: jEnum(s['kind'], 'kind', SpanKindEnum.values),
    startTimeNs: jTime(field(s, 'startTimeUnixNano', 'start_time_unix_nano')),
    endTimeNs: jTime(field(s, 'endTimeUnixNano', 'end_time_unix_nano')),
    attributes: jAttributes(s['attributes'], 'attributes', 0),
    events,
    links,
    status,
  };
}

function traceFromJson(doc: JsonObject): TraceRequest {
  return runJson(() => {
    const srcRs = jArray(field(doc, 'resourceSpans', 'resource_spans'), 'resourceSpans');
    const resourceSpans: ResourceSpans[] = new Array<ResourceSpans>(srcRs.length);
    for (let i = 0; i < srcRs.length; i++) {
      try {
        const rs = jObject(srcRs[i], '') ?? {};
        const srcSs = jArray(field(rs, 'scopeSpans', 'scope_spans'), 'scopeSpans');
        const scopeSpans: ScopeSpans[] = new Array<ScopeSpans>(srcSs.length);
        for (let j = 0; j < srcSs.length; j++) {
          try {
            const ss = jObject(srcSs[j], '') ?? {};
            const srcSpans = jArray(ss['spans'], 'spans');
            const spans: Span[] = new Array<Span>(srcSpans.length);
            for (let k = 0; k < srcSpans.length; k++) {
              try {
                spans[k] = jSpan(srcSpans[k]);
              } catch (err) {
                throw within(within(err, `[${k}]`), 'spans');
              }
            }
            scopeSpans[j] = { scope: jScope(ss['scope']), spans };
          } catch (err) {
            throw within(within(err, `[${j}]`), 'scopeSpans');
          }
        }
        resourceSpans[i] = { resource: jResource(rs['resource']), scopeSpans };
      } catch (err) {
        throw within(within(err, `[${i}]`), 'resourceSpans');
      }
    }
    return { resourceSpans };
  });
}

function jLogRecord(v: unknown): LogRecord {
  const r = jObject(v, '') ?? {};
  const attributes = jAttributes(r['attributes'], 'attributes', 0);
  let body: AttrValue;
  try {
    body = jAnyValue(r['body'], 0);
  } catch (err) {
    throw within(err, 'body');
  }
  return {
    timeNs: jTime(field(r, 'timeUnixNano', 'time_unix_nano')),
    observedTimeNs: jTime(field(r, 'observedTimeUnixNano', 'observed_time_unix_nano')),
    severityNumber: jEnum(field(r, 'severityNumber', 'severity_number'), 'severityNumber', SeverityNumberEnum.values),
    severityText: jString(field(r, 'severityText', 'severity_text'), 'severityText'),
    body,
    attributes,
    traceId: jId(field(r, 'traceId', 'trace_id')),
    spanId: jId(field(r, 'spanId', 'span_id')),
    eventName: eventNameOf(jString(field(r, 'eventName', 'event_name'), 'eventName'), attributes),
  };
}

function logsFromJson(doc: JsonObject): LogsRequest {
  return runJson(() => {
    const srcRl = jArray(field(doc, 'resourceLogs', 'resource_logs'), 'resourceLogs');
    const resourceLogs: ResourceLogs[] = new Array<ResourceLogs>(srcRl.length);
    for (let i = 0; i < srcRl.length; i++) {
      try {
        const rl = jObject(srcRl[i], '') ?? {};
        const srcSl = jArray(field(rl, 'scopeLogs', 'scope_logs'), 'scopeLogs');
        const scopeLogs: ScopeLogs[] = new Array<ScopeLogs>(srcSl.length);
        for (let j = 0; j < srcSl.length; j++) {
          try {
            const sl = jObject(srcSl[j], '') ?? {};
            const srcRecords = jArray(field(sl, 'logRecords', 'log_records'), 'logRecords');
            const logRecords: LogRecord[] = new Array<LogRecord>(srcRecords.length);
            for (let k = 0; k < srcRecords.length; k++) {
              try {
                logRecords[k] = jLogRecord(srcRecords[k]);
              } catch (err) {
                throw within(within(err, `[${k}]`), 'logRecords');
              }
            }
            scopeLogs[j] = { scope: jScope(sl['scope']), logRecords };
          } catch (err) {
            throw within(within(err, `[${j}]`), 'scopeLogs');
          }
        }
        resourceLogs[i] = { resource: jResource(rl['resource']), scopeLogs };
      } catch (err) {
        throw within(within(err, `[${i}]`), 'resourceLogs');
      }
    }
    return { resourceLogs };
  });
}
