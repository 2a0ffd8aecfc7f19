/** OTLP/JSON export requests → the model, walking JSON.parse output once. */
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
  SpanLink,
  TraceRequest,
} from '../model/otlp.js';
import { SeverityNumberEnum, SpanKindEnum, StatusCodeEnum } from './proto.js';
import { MAX_DEPTH, OtlpDecodeError, doubleValue, errorText, eventNameOf, parentId, setAttr, statusCode } from './decode-common.js';

export const decodeTraceJson = (body: Buffer): TraceRequest => traceFromJson(parseJson(body));
export const decodeLogsJson = (body: Buffer): LogsRequest => logsFromJson(parseJson(body));

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
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
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

function jInt64(v: unknown, name: string): Json {
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

function jDouble(v: unknown, name: string): Json {
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

function jAnyValue(v: unknown, depth: number): Json {
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
    const src = arr === null ? NO_ITEMS : jArray(arr.values, 'values');
    const out: Json[] = new Array<Json>(src.length);
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
      return jAttributes(kvl === null ? undefined : kvl.values, 'values', depth + 1);
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
      const key = jString(kv.key, 'key');
      let value: Json;
      try {
        value = jAnyValue(kv.value, depth);
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
    return { attributes: jAttributes(r.attributes, 'attributes', 0) };
  } catch (err) {
    throw within(err, 'resource');
  }
}

function jScope(v: unknown): Scope {
  const s = jObject(v, 'scope');
  if (s === null) return { name: '', version: '' };
  try {
    return { name: jString(s.name, 'name'), version: jString(s.version, 'version') };
  } catch (err) {
    throw within(err, 'scope');
  }
}

function jEvent(v: unknown): SpanEvent {
  const e = jObject(v, '') ?? {};
  return {
    timeNs: jTime(field(e, 'timeUnixNano', 'time_unix_nano')),
    name: jString(e.name, 'name'),
    attributes: jAttributes(e.attributes, 'attributes', 0),
  };
}

function jLink(v: unknown): SpanLink {
  const l = jObject(v, '') ?? {};
  return {
    traceId: jId(field(l, 'traceId', 'trace_id')),
    spanId: jId(field(l, 'spanId', 'span_id')),
    attributes: jAttributes(l.attributes, 'attributes', 0),
  };
}

function jSpan(v: unknown): Span {
  const s = jObject(v, '') ?? {};
  const srcEvents = jArray(s.events, 'events');
  const events: SpanEvent[] = new Array<SpanEvent>(srcEvents.length);
  for (let i = 0; i < srcEvents.length; i++) {
    try {
      events[i] = jEvent(srcEvents[i]);
    } catch (err) {
      throw within(within(err, `[${i}]`), 'events');
    }
  }
  const srcLinks = jArray(s.links, 'links');
  const links: SpanLink[] = new Array<SpanLink>(srcLinks.length);
  for (let i = 0; i < srcLinks.length; i++) {
    try {
      links[i] = jLink(srcLinks[i]);
    } catch (err) {
      throw within(within(err, `[${i}]`), 'links');
    }
  }
  const st = jObject(s.status, 'status');
  let status: Span['status'];
  if (st === null) {
    status = { code: 0, message: '' };
  } else {
    try {
      status = { code: statusCode(jEnum(st.code, 'code', StatusCodeEnum.values)), message: jString(st.message, 'message') };
    } catch (err) {
      throw within(err, 'status');
    }
  }
  return {
    traceId: jId(field(s, 'traceId', 'trace_id')),
    spanId: jId(field(s, 'spanId', 'span_id')),
    parentSpanId: parentId(jId(field(s, 'parentSpanId', 'parent_span_id'))),
    traceState: jString(field(s, 'traceState', 'trace_state'), 'traceState'),
    name: jString(s.name, 'name'),
    kind: jEnum(s.kind, 'kind', SpanKindEnum.values),
    startTimeNs: jTime(field(s, 'startTimeUnixNano', 'start_time_unix_nano')),
    endTimeNs: jTime(field(s, 'endTimeUnixNano', 'end_time_unix_nano')),
    attributes: jAttributes(s.attributes, 'attributes', 0),
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
            const srcSpans = jArray(ss.spans, 'spans');
            const spans: Span[] = new Array<Span>(srcSpans.length);
            for (let k = 0; k < srcSpans.length; k++) {
              try {
                spans[k] = jSpan(srcSpans[k]);
              } catch (err) {
                throw within(within(err, `[${k}]`), 'spans');
              }
            }
            scopeSpans[j] = { scope: jScope(ss.scope), spans };
          } catch (err) {
            throw within(within(err, `[${j}]`), 'scopeSpans');
          }
        }
        resourceSpans[i] = { resource: jResource(rs.resource), scopeSpans };
      } catch (err) {
        throw within(within(err, `[${i}]`), 'resourceSpans');
      }
    }
    return { resourceSpans };
  });
}

function jLogRecord(v: unknown): LogRecord {
  const r = jObject(v, '') ?? {};
  const attributes = jAttributes(r.attributes, 'attributes', 0);
  let body: Json;
  try {
    body = jAnyValue(r.body, 0);
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
            scopeLogs[j] = { scope: jScope(sl.scope), logRecords };
          } catch (err) {
            throw within(within(err, `[${j}]`), 'scopeLogs');
          }
        }
        resourceLogs[i] = { resource: jResource(rl.resource), scopeLogs };
      } catch (err) {
        throw within(within(err, `[${i}]`), 'resourceLogs');
      }
    }
    return { resourceLogs };
  });
}
