import { readFileSync, readdirSync } from 'node:fs';
import { SpanKind, SpanStatusCode, type Attributes as ApiAttributes } from '@opentelemetry/api';
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { LogsRequest, Span, TraceRequest } from '../../src/model/otlp.js';
import { OtlpDecodeError, decodeLogsRequest, decodeTraceRequest, u64ToDecimal } from '../../src/otlp/decode.js';
import { encodeLogsResponse, encodeStatus, encodeTraceResponse } from '../../src/otlp/encode.js';
import { ExportLogsServiceResponse, ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus, otlpRoot } from '../../src/otlp/proto.js';
import { validateLogsRequest, validateTraceRequest } from '../../src/otlp/validate.js';
import { lenField, traceRequestWithSpan, varintField } from '../helpers/wire.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixtureNames = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.traces.pb'))
  .map((f) => f.slice(0, -'.traces.pb'.length))
  .sort();

function fixture(file: string): Buffer {
  return readFileSync(new URL(file, FIXTURES));
}

function allSpans(req: TraceRequest): Span[] {
  return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

function toObject(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: false }) as Record<string, unknown>;
}

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const PARENT_ID = 'eee19b7ec3c1b173';

describe('fixtures', () => {
  it('finds the fixture sets', () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(5);
  });

  for (const name of fixtureNames) {
    it(`${name}: protobuf and JSON decode to the same request`, () => {
      const facts = JSON.parse(fixture(`${name}.facts.json`).toString('utf8')) as {
        span_count: number;
        traces: { trace_id: string }[];
      };
      const fromPb = decodeTraceRequest(fixture(`${name}.traces.pb`), 'protobuf');
      const fromJson = decodeTraceRequest(fixture(`${name}.traces.json`), 'json');
      expect(fromPb).toStrictEqual(fromJson);

      const spans = allSpans(fromPb);
      expect(spans).toHaveLength(facts.span_count);
      const traceIds = new Set(spans.map((s) => s.traceId));
      for (const t of facts.traces) expect(traceIds).toContain(t.trace_id);
      for (const s of spans) {
        expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(s.parentSpanId).toMatch(/^(|[0-9a-f]{16})$/);
        expect(s.startTimeNs).toMatch(/^[1-9][0-9]{18}$/);
        expect(BigInt(s.endTimeNs) >= BigInt(s.startTimeNs)).toBe(true);
      }
      expect(fromPb.resourceSpans[0]?.resource.attributes['service.name']).toEqual(expect.any(String));

      const { accepted, rejected, errors } = validateTraceRequest(fromPb);
      expect(rejected).toBe(0);
      expect(errors).toEqual([]);
      expect(allSpans(accepted)).toHaveLength(facts.span_count);
    });
  }

  it('agrees with protobufjs reflection decoding on times and ids', () => {
    const body = fixture('vercel.traces.pb');
    const reflected = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String }) as {
      resourceSpans: { scopeSpans: { spans: { traceId: Uint8Array; startTimeUnixNano: string; name: string }[] }[] }[];
    };
    const ours = allSpans(decodeTraceRequest(body, 'protobuf'));
    const theirs = reflected.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    expect(ours.map((s) => [s.name, s.traceId, s.startTimeNs])).toEqual(
      theirs.map((s) => [s.name, Buffer.from(s.traceId).toString('hex'), s.startTimeUnixNano]),
    );
  });
});

describe('u64ToDecimal', () => {
  it('matches BigInt across the range', () => {
    const samples = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 1795779158531178468n, 2n ** 64n - 1n];
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 500; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
      samples.push(x >> BigInt(i % 40));
    }
    for (const v of samples) {
      expect(u64ToDecimal(Number(v & 0xffffffffn), Number(v >> 32n))).toBe(v.toString());
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips through the OpenTelemetry JS serializers
// ---------------------------------------------------------------------------------------------

const resource = resourceFromAttributes({ 'service.name': 'sales-email', 'deployment.environment.name': 'test' });

// The serializers group by scope object identity, as the SDK guarantees.
const spanScope = { name: 'openai-instr', version: '0.21.0' };

function readableSpan(over: Partial<ReadableSpan> & { attributes: ApiAttributes }): ReadableSpan {
  return {
    name: 'chat gpt-4o',
    kind: SpanKind.CLIENT,
    spanContext: () => ({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }),
    parentSpanContext: { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1 },
    startTime: [1795779158, 531000123],
    endTime: [1795779159, 7],
    status: { code: SpanStatusCode.ERROR, message: 'upstream 500' },
    links: [],
    events: [],
    duration: [0, 469000000],
    ended: true,
    resource,
    instrumentationScope: spanScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...over,
  };
}

describe('round trip through @opentelemetry/otlp-transformer (traces)', () => {
  // The span API only allows primitive attributes; the serializer encodes any AnyValue, so richer
  // values are smuggled in through a cast to cover bytes and nested kvlist/array on the wire.
  const rich = {
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 21,
    'big.positive': 2 ** 60,
    'big.negative': -(2 ** 55),
    'small.negative': -7,
    temperature: 0.25,
    stream: false,
    'gen_ai.response.finish_reasons': ['stop', 'length'],
    'mixed.array': [1, 'two', true],
    payload: new Uint8Array([0, 1, 2, 253, 254, 255]),
    nested: { role: 'user', parts: [{ type: 'text', n: 3 }], deep: { x: [[1, 2], []] } },
    '': 'empty key',
    'empty.string': '',
  } as unknown as ApiAttributes;

  const expectedAttributes = {
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 21,
    'big.positive': '1152921504606846976',
    'big.negative': '-36028797018963968',
    'small.negative': -7,
    temperature: 0.25,
    stream: false,
    'gen_ai.response.finish_reasons': ['stop', 'length'],
    'mixed.array': [1, 'two', true],
    payload: Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64'),
    nested: { role: 'user', parts: [{ type: 'text', n: 3 }], deep: { x: [[1, 2], []] } },
    '': 'empty key',
    'empty.string': '',
  };

  const spans: ReadableSpan[] = [
    readableSpan({
      attributes: rich,
      events: [{ name: 'gen_ai.content.prompt', time: [1795779158, 600000000], attributes: { 'gen_ai.prompt': 'hi' } }],
      links: [{ context: { traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), traceFlags: 0 }, attributes: { why: 'retry' } }],
    }),
    readableSpan({
      name: 'root',
      kind: SpanKind.SERVER,
      spanContext: () => ({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1 }),
      parentSpanContext: undefined,
      status: { code: SpanStatusCode.UNSET },
      attributes: {},
    }),
  ];

  const expected: TraceRequest = {
    resourceSpans: [
      {
        resource: { attributes: { 'service.name': 'sales-email', 'deployment.environment.name': 'test' } },
        scopeSpans: [
          {
            scope: { name: 'openai-instr', version: '0.21.0' },
            spans: [
              {
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                parentSpanId: PARENT_ID,
                traceState: '',
                name: 'chat gpt-4o',
                kind: 3, // API CLIENT (2) + 1: OTLP reserves 0 for UNSPECIFIED
                startTimeNs: '1795779158531000123',
                endTimeNs: '1795779159000000007',
                attributes: expectedAttributes,
                events: [{ timeNs: '1795779158600000000', name: 'gen_ai.content.prompt', attributes: { 'gen_ai.prompt': 'hi' } }],
                links: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), attributes: { why: 'retry' } }],
                status: { code: 2, message: 'upstream 500' },
              },
              {
                traceId: TRACE_ID,
                spanId: PARENT_ID,
                parentSpanId: '',
                traceState: '',
                name: 'root',
                kind: 2,
                startTimeNs: '1795779158531000123',
                endTimeNs: '1795779159000000007',
                attributes: {},
                events: [],
                links: [],
                status: { code: 0, message: '' },
              },
            ],
          },
        ],
      },
    ],
  };

  it('decodes the protobuf serialization', () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(decodeTraceRequest(body, 'protobuf')).toStrictEqual(expected);
  });

  it('decodes the JSON serialization', () => {
    const body = Buffer.from(JsonTraceSerializer.serializeRequest(spans)!);
    expect(decodeTraceRequest(body, 'json')).toStrictEqual(expected);
  });
});

describe('logs', () => {
  const linked = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
  const logScope = { name: 'genai-events', version: '1.0.0' };
  function logRecord(over: Partial<ReadableLogRecord>): ReadableLogRecord {
    return {
      hrTime: [1795779158, 700000000],
      hrTimeObserved: [1795779158, 700000001],
      resource,
      instrumentationScope: logScope,
      attributes: {},
      droppedAttributesCount: 0,
      ...over,
    };
  }
  const records: ReadableLogRecord[] = [
    logRecord({
      eventName: 'gen_ai.user.message',
      spanContext: linked,
      severityNumber: 9,
      severityText: 'INFO',
      body: { content: 'Write a follow-up email', role: 'user', attachments: [new Uint8Array([104, 105])] },
      attributes: { 'gen_ai.system': 'openai', 'big.count': 2 ** 54 },
    }),
    logRecord({
      spanContext: linked,
      body: 'legacy event',
      attributes: { 'event.name': 'gen_ai.user.message', 'gen_ai.system': 'openai' },
    }),
    logRecord({ body: 'plain log line, no span' }),
  ];

  const expected: LogsRequest = {
    resourceLogs: [
      {
        resource: { attributes: { 'service.name': 'sales-email', 'deployment.environment.name': 'test' } },
        scopeLogs: [
          {
            scope: { name: 'genai-events', version: '1.0.0' },
            logRecords: [
              {
                timeNs: '1795779158700000000',
                observedTimeNs: '1795779158700000001',
                severityNumber: 9,
                severityText: 'INFO',
                body: { content: 'Write a follow-up email', role: 'user', attachments: ['aGk='] },
                attributes: { 'gen_ai.system': 'openai', 'big.count': '18014398509481984' },
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                eventName: 'gen_ai.user.message',
              },
              {
                timeNs: '1795779158700000000',
                observedTimeNs: '1795779158700000001',
                severityNumber: 0,
                severityText: '',
                body: 'legacy event',
                attributes: { 'event.name': 'gen_ai.user.message', 'gen_ai.system': 'openai' },
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                eventName: 'gen_ai.user.message',
              },
              {
                timeNs: '1795779158700000000',
                observedTimeNs: '1795779158700000001',
                severityNumber: 0,
                severityText: '',
                body: 'plain log line, no span',
                attributes: {},
                traceId: '',
                spanId: '',
                eventName: '',
              },
            ],
          },
        ],
      },
    ],
  };

  it('decodes GenAI events from the protobuf serialization', () => {
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
    expect(decodeLogsRequest(body, 'protobuf')).toStrictEqual(expected);
  });

  it('decodes GenAI events from the JSON serialization', () => {
    const body = Buffer.from(JsonLogsSerializer.serializeRequest(records)!);
    expect(decodeLogsRequest(body, 'json')).toStrictEqual(expected);
  });

  it('prefers event_name over the event.name attribute', () => {
    const body = Buffer.from(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  {
                    eventName: 'gen_ai.choice',
                    severityNumber: 'SEVERITY_NUMBER_WARN',
                    attributes: [{ key: 'event.name', value: { stringValue: 'gen_ai.user.message' } }],
                  },
                  { event_name: '', attributes: [{ key: 'event.name', value: { intValue: 3 } }] },
                ],
              },
            ],
          },
        ],
      }),
    );
    const req = decodeLogsRequest(body, 'json');
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(recs.map((r) => [r.eventName, r.severityNumber, r.timeNs, r.body])).toEqual([
      ['gen_ai.choice', 13, '0', null],
      ['', 0, '0', null],
    ]);
    expect(req.resourceLogs[0]!.resource).toEqual({ attributes: {} });
    expect(req.resourceLogs[0]!.scopeLogs[0]!.scope).toEqual({ name: '', version: '' });
  });

  it('validation drops records with malformed ids and keeps unlinked ones', () => {
    const req = decodeLogsRequest(Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!), 'protobuf');
    const recs = req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[0]!.traceId = 'abcd';
    recs[1]!.spanId = '0'.repeat(16);
    const { accepted, rejected, errors } = validateLogsRequest(req);
    expect(rejected).toBe(2);
    expect(errors).toEqual([
      'log record 0 ("gen_ai.user.message"): trace_id must be 16 bytes (32 hex chars), got 2 bytes',
      'log record 1 ("gen_ai.user.message"): span_id must not be all zeros',
    ]);
    expect(accepted.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body)).toEqual(['plain log line, no span']);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built requests: edge cases the SDK serializers never produce
// ---------------------------------------------------------------------------------------------

const SpanType = otlpRoot.lookupType('opentelemetry.proto.trace.v1.Span');

/** Wraps encoded Span messages into request → ResourceSpans → ScopeSpans on the wire. */
function wrapSpans(spanBytes: Uint8Array[], resourceAttrs: Record<string, unknown>[] = []): Buffer {
  const scope = protobuf.Writer.create();
  for (const b of spanBytes) scope.uint32((2 << 3) | 2).bytes(b);
  const resourceMsg = otlpRoot.lookupType('opentelemetry.proto.resource.v1.Resource').encode({ attributes: resourceAttrs }).finish();
  const rs = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(resourceMsg)
    .uint32((2 << 3) | 2)
    .bytes(scope.finish());
  const req = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(rs.finish());
  return Buffer.from(req.finish());
}

describe('protobuf wire types', () => {
  it('refuses a known field sent with a wire type it cannot have', () => {
    // Span.name (5) is a string: as a varint the request is malformed, not a newer schema's field.
    expect(() => decodeTraceRequest(traceRequestWithSpan(varintField(5, 1)), 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(traceRequestWithSpan(varintField(5, 1)), 'protobuf')).toThrow(/field 5 has wire type 0, expected 2/);
    // Span.startTimeUnixNano (7) is fixed64, as a string it is malformed too.
    expect(() => decodeTraceRequest(traceRequestWithSpan(lenField(7, Buffer.from('123'))), 'protobuf')).toThrow(/field 7 has wire type 2/);
  });

  it('still skips fields the schema does not define', () => {
    const req = decodeTraceRequest(traceRequestWithSpan(lenField(5, Buffer.from('ok')), varintField(99, 7)), 'protobuf');
    expect(req.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name).toBe('ok');
  });
});

describe('hand-built protobuf', () => {
  it('keeps 64-bit values exact and maps every AnyValue kind', () => {
    const span = SpanType.encode(
      SpanType.fromObject({
        traceId: Buffer.from(TRACE_ID, 'hex'),
        spanId: Buffer.from(SPAN_ID, 'hex'),
        name: 'edge',
        kind: 2,
        startTimeUnixNano: Long.fromString('18446744073709551615', true),
        endTimeUnixNano: Long.fromString('9007199254740993', true),
        attributes: [
          { key: 'i.max', value: { intValue: Long.MAX_VALUE } },
          { key: 'i.min', value: { intValue: Long.MIN_VALUE } },
          { key: 'i.2^53+1', value: { intValue: Long.fromString('9007199254740993') } },
          { key: 'i.-2^53', value: { intValue: Long.fromString('-9007199254740992') } },
          { key: 'i.safe', value: { intValue: Long.fromString('-9007199254740991') } },
          { key: 'd.nan', value: { doubleValue: NaN } },
          { key: 'd.inf', value: { doubleValue: -Infinity } },
          { key: 'empty', value: {} },
          { key: 'novalue' },
          { key: 'bytes', value: { bytesValue: Buffer.from('hello') } },
          { key: '__proto__', value: { stringValue: 'not a prototype' } },
          {
            key: 'kv',
            value: {
              kvlistValue: {
                values: [
                  { key: 'a', value: { arrayValue: { values: [{ boolValue: true }, {}, { arrayValue: {} }] } } },
                  { key: 'b', value: { kvlistValue: {} } },
                ],
              },
            },
          },
          { key: 'dup', value: { stringValue: 'first' } },
          { key: 'dup', value: { stringValue: 'last' } },
        ],
        status: { code: 7, message: 'odd code' },
      }),
    ).finish();
    const req = decodeTraceRequest(wrapSpans([span], [{ key: 'service.name', value: { stringValue: 'svc' } }]), 'protobuf');
    const s = allSpans(req)[0]!;
    expect(s.startTimeNs).toBe('18446744073709551615');
    expect(s.endTimeNs).toBe('9007199254740993');
    expect(s.status).toEqual({ code: 0, message: 'odd code' });
    expect(s.kind).toBe(2);
    expect(Object.getPrototypeOf(s.attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(s.attributes, '__proto__')?.value).toBe('not a prototype');
    expect({ ...s.attributes, __proto__: undefined }).toMatchObject({
      'i.max': '9223372036854775807',
      'i.min': '-9223372036854775808',
      'i.2^53+1': '9007199254740993',
      'i.-2^53': '-9007199254740992',
      'i.safe': -9007199254740991,
      'd.nan': 'NaN',
      'd.inf': '-Infinity',
      empty: null,
      novalue: null,
      bytes: 'aGVsbG8=',
      kv: { a: [true, null, []], b: {} },
      dup: 'last',
    });
    expect(req.resourceSpans[0]!.resource.attributes).toEqual({ 'service.name': 'svc' });
    expect(req.resourceSpans[0]!.scopeSpans[0]!.scope).toEqual({ name: '', version: '' });
  });

  it('skips unknown fields of every wire type', () => {
    const known = SpanType.encode({ traceId: Buffer.from(TRACE_ID, 'hex'), spanId: Buffer.from(SPAN_ID, 'hex'), name: 'x' }).finish();
    const unknown = protobuf.Writer.create()
      .uint32((99 << 3) | 0)
      .uint64(Long.fromString('18446744073709551615', true))
      .uint32((100 << 3) | 1)
      .fixed64(1)
      .uint32((101 << 3) | 2)
      .string('ignored')
      .uint32((102 << 3) | 5)
      .fixed32(5)
      .uint32((103 << 3) | 3) // group start …
      .uint32((1 << 3) | 0)
      .uint32(1)
      .uint32((103 << 3) | 4) // … group end
      .finish();
    const body = wrapSpans([Buffer.concat([known, unknown])]);
    const s = allSpans(decodeTraceRequest(body, 'protobuf'))[0]!;
    expect([s.traceId, s.spanId, s.name]).toEqual([TRACE_ID, SPAN_ID, 'x']);
  });

  it('decodes an empty body as an empty request', () => {
    expect(decodeTraceRequest(Buffer.alloc(0), 'protobuf')).toEqual({ resourceSpans: [] });
    expect(decodeLogsRequest(Buffer.alloc(0), 'protobuf')).toEqual({ resourceLogs: [] });
  });

  it('passes odd-length ids through for validation to reject', () => {
    const span = SpanType.encode({ traceId: Buffer.from('abcdef', 'hex'), spanId: Buffer.alloc(8), name: 'short' }).finish();
    const s = allSpans(decodeTraceRequest(wrapSpans([span]), 'protobuf'))[0]!;
    expect([s.traceId, s.spanId, s.startTimeNs]).toEqual(['abcdef', '0000000000000000', '0']);
  });
});

describe('hand-built OTLP/JSON', () => {
  it('accepts snake_case keys, enum names, numeric times and ignores unknown fields', () => {
    const doc = {
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], dropped_attributes_count: 0, extra: 1 },
          schema_url: 'https://opentelemetry.io/schemas/1.30.0',
          scope_spans: [
            {
              scope: { name: 'snake', version: '2' },
              spans: [
                {
                  trace_id: TRACE_ID.toUpperCase(),
                  span_id: SPAN_ID,
                  parent_span_id: '',
                  trace_state: 'k=v',
                  name: 'chat',
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: 1795779158531000000,
                  endTimeUnixNano: '1795779158531178468',
                  attributes: [
                    { key: 'n', value: { int_value: '9007199254740993' } },
                    { key: 'm', value: { intValue: '-12' } },
                    { key: 'd', value: { double_value: 'NaN' } },
                    { key: 'd2', value: { doubleValue: '1.5' } },
                    { key: 'b', value: { bytes_value: '-_8' } },
                    { key: 'l', value: { kvlist_value: { values: [{ key: 'x', value: { array_value: { values: [{ bool_value: true }] } } }] } } },
                    { key: 'e', value: {} },
                    { key: 'nul', value: null },
                  ],
                  events: [{ time_unix_nano: '5', name: 'ev', somethingNew: [1, 2] }],
                  links: [{ trace_id: 'AA'.repeat(16), span_id: 'BB'.repeat(8) }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
                  flags: 257,
                  futureField: { nested: true },
                },
              ],
            },
          ],
        },
      ],
      unknownTopLevel: 'ignored',
    };
    const req = decodeTraceRequest(Buffer.from(JSON.stringify(doc)), 'json');
    expect(req.resourceSpans[0]!.resource).toEqual({ attributes: { 'service.name': 'svc' } });
    expect(req.resourceSpans[0]!.scopeSpans[0]!.scope).toEqual({ name: 'snake', version: '2' });
    expect(allSpans(req)[0]).toStrictEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      parentSpanId: '',
      traceState: 'k=v',
      name: 'chat',
      kind: 3,
      startTimeNs: '1795779158531000000',
      endTimeNs: '1795779158531178468',
      attributes: {
        n: '9007199254740993',
        m: -12,
        d: 'NaN',
        d2: 1.5,
        b: '+/8=',
        l: { x: [true] },
        e: null,
        nul: null,
      },
      events: [{ timeNs: '5', name: 'ev', attributes: {} }],
      links: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), attributes: {} }],
      status: { code: 2, message: 'bad' },
    } satisfies Span);
  });

  it('keeps malformed ids and times as given so validation rejects only that span', () => {
    const doc = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: 'XYZ', spanId: SPAN_ID, name: 'bad id', startTimeUnixNano: '-1', endTimeUnixNano: 1.5 },
                { traceId: TRACE_ID, spanId: SPAN_ID, name: 'ok', startTimeUnixNano: '1', endTimeUnixNano: '2' },
              ],
            },
          ],
        },
      ],
    };
    const req = decodeTraceRequest(Buffer.from(JSON.stringify(doc)), 'json');
    const [bad, ok] = allSpans(req);
    expect([bad!.traceId, bad!.startTimeNs, bad!.endTimeNs]).toEqual(['xyz', '-1', '1.5']);
    expect(ok!.name).toBe('ok');
    const v = validateTraceRequest(req);
    expect(v.rejected).toBe(1);
    expect(v.errors).toEqual(['span 0 ("bad id"): trace_id must be 16 bytes (32 hex chars), got "xyz" (not hex)']);
    expect(allSpans(v.accepted).map((s) => s.name)).toEqual(['ok']);
  });

  it('treats missing and null fields as defaults', () => {
    const req = decodeTraceRequest(Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{}]}],"resource":null}]}'), 'json');
    expect(allSpans(req)[0]).toStrictEqual({
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
    });
    expect(decodeTraceRequest(Buffer.from('{}'), 'json')).toEqual({ resourceSpans: [] });
  });
});

describe('undecodable bodies', () => {
  const pb = fixture('otel-genai.traces.pb');

  it.each([
    ['truncated', pb.subarray(0, pb.length - 7)],
    ['garbage', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ['invalid wire type', Buffer.from([0x0f, 0x01])],
    ['length past the end', Buffer.from([0x0a, 0x7f, 0x00])],
    ['nested length past its parent', Buffer.from([0x0a, 0x02, 0x12, 0x05, 0, 0, 0, 0, 0])],
    ['json sent as protobuf', fixture('otel-genai.traces.json')],
  ])('protobuf: %s', (_label, body) => {
    expect(() => decodeTraceRequest(body, 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(body, 'protobuf')).toThrow(/^invalid protobuf: /);
  });

  it('protobuf: AnyValue nesting beyond the recursion limit', () => {
    // Built by hand: protobufjs' own encoder refuses this depth.
    let anyValue = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string('leaf')
      .finish();
    for (let i = 0; i < 150; i++) {
      const arrayValue = protobuf.Writer.create()
        .uint32((1 << 3) | 2)
        .bytes(anyValue)
        .finish();
      anyValue = protobuf.Writer.create()
        .uint32((5 << 3) | 2)
        .bytes(arrayValue)
        .finish();
    }
    const keyValue = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string('k')
      .uint32((2 << 3) | 2)
      .bytes(anyValue)
      .finish();
    const span = protobuf.Writer.create()
      .uint32((9 << 3) | 2)
      .bytes(keyValue)
      .finish();
    expect(() => decodeTraceRequest(wrapSpans([span]), 'protobuf')).toThrow(/invalid protobuf: max depth exceeded/);
  });

  it.each([
    ['syntax error', '{"resourceSpans": [', /^invalid JSON: /],
    ['not an object', '[1,2]', /^invalid JSON at \$: expected an object/],
    ['wrong container type', '{"resourceSpans": {"a": 1}}', /^invalid JSON at resourceSpans: expected an array/],
    [
      'wrong scalar type',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"},{"name":5}]}]}]}',
      /^invalid JSON at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]\.name: expected a string, got 5$/,
    ],
    [
      'bad intValue',
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"1.5"}}]}]}]}]}',
      /^invalid JSON at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value\.intValue: expected an integer, got "1\.5"$/,
    ],
    ['bad kind', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":true}]}]}]}', /spans\[0\]\.kind: expected an enum number or name, got true$/],
  ])('JSON: %s', (_label, text, message) => {
    expect(() => decodeTraceRequest(Buffer.from(text), 'json')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(Buffer.from(text), 'json')).toThrow(message);
  });

  it('JSON: protobuf sent as JSON and invalid logs bodies', () => {
    expect(() => decodeTraceRequest(pb, 'json')).toThrow(/^invalid JSON: /);
    expect(() => decodeLogsRequest(Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"boolValue":"yes"}}]}]}]}'), 'json')).toThrow(
      /^invalid JSON at resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.body\.boolValue: expected a boolean/,
    );
    expect(() => decodeLogsRequest(Buffer.from([0x0a, 0x05, 0x01]), 'protobuf')).toThrow(OtlpDecodeError);
  });

  it('JSON: AnyValue nesting beyond the limit', () => {
    let value: Record<string, unknown> = { stringValue: 'leaf' };
    for (let i = 0; i < 150; i++) value = { arrayValue: { values: [value] } };
    const text = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value }] }] }] }] });
    expect(() => decodeTraceRequest(Buffer.from(text), 'json')).toThrow(/AnyValue nested too deeply/);
  });
});

describe('validateTraceRequest', () => {
  function mutated(): TraceRequest {
    const req = decodeTraceRequest(fixture('vercel.traces.pb'), 'protobuf');
    // Put the last scope group's spans into its own resource so group pruning is visible.
    const rs = req.resourceSpans[0]!;
    const spans = allSpans(req);
    rs.scopeSpans = [
      { scope: { name: 'a', version: '1' }, spans: spans.slice(0, 10) },
      { scope: { name: 'b', version: '1' }, spans: spans.slice(10, 18) },
      { scope: { name: 'c', version: '1' }, spans: [] },
    ];
    req.resourceSpans.push({
      resource: { attributes: { 'service.name': 'other' } },
      scopeSpans: [{ scope: { name: 'd', version: '' }, spans: spans.slice(18) }],
    });
    return req;
  }

  it('rejects bad ids and times, keeps the rest in their groups', () => {
    const req = mutated();
    const spans = allSpans(req);
    spans[1]!.traceId = spans[1]!.traceId.slice(0, 12);
    spans[2]!.traceId = '0'.repeat(32);
    spans[3]!.spanId = '0'.repeat(16);
    spans[4]!.parentSpanId = 'abc';
    spans[5]!.startTimeNs = '-5';
    spans[6]!.endTimeNs = '18446744073709551616';
    spans[7]!.spanId = '';
    // Both spans of the last resource are bad: that resource group disappears.
    spans[18]!.traceId = 'zz';
    spans[19]!.traceId = 'zz';
    const names = spans.map((s) => s.name);

    const { accepted, rejected, errors } = validateTraceRequest(req);
    expect(rejected).toBe(9);
    expect(errors).toHaveLength(5);
    expect(errors).toEqual([
      `span 1 (${JSON.stringify(names[1])}): trace_id must be 16 bytes (32 hex chars), got 6 bytes`,
      `span 2 (${JSON.stringify(names[2])}): trace_id must not be all zeros`,
      `span 3 (${JSON.stringify(names[3])}): span_id must not be all zeros`,
      `span 4 (${JSON.stringify(names[4])}): parent_span_id must be empty or 8 bytes (16 hex chars), got "abc" (not hex)`,
      `span 5 (${JSON.stringify(names[5])}): start_time_unix_nano must be a non-negative integer of nanoseconds, got "-5"`,
    ]);
    expect(accepted.resourceSpans).toHaveLength(1);
    const groups = accepted.resourceSpans[0]!.scopeSpans;
    expect(groups.map((g) => [g.scope.name, g.spans.length])).toEqual([
      ['a', 3],
      ['b', 8],
    ]);
    expect(groups[0]!.spans.map((s) => s.name)).toEqual([names[0], names[8], names[9]]);
    // Untouched groups are passed through as they are.
    expect(groups[1]).toBe(req.resourceSpans[0]!.scopeSpans[1]);
  });

  it('de-duplicates messages and stops at five', () => {
    const req = mutated();
    for (const s of allSpans(req)) {
      s.name = 'same';
      s.traceId = '';
    }
    const { rejected, errors, accepted } = validateTraceRequest(req);
    expect(rejected).toBe(20);
    expect(errors).toHaveLength(5);
    expect(errors[0]).toBe('span 0 ("same"): trace_id must be 16 bytes (32 hex chars), got none');
    expect(accepted).toEqual({ resourceSpans: [] });
  });
});

describe('responses', () => {
  it('encodes full success as an empty message', () => {
    expect(encodeTraceResponse(null, 'protobuf')).toHaveLength(0);
    expect(encodeLogsResponse(null, 'protobuf')).toHaveLength(0);
    expect(encodeTraceResponse(null, 'json').toString()).toBe('{}');
    expect(encodeLogsResponse({ rejected: 0, message: '' }, 'json').toString()).toBe('{}');
    expect(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse(null, 'protobuf'))).toEqual({});
  });

  it('encodes trace partial success', () => {
    const partial = { rejected: 2, message: 'span 3 ("chat"): trace_id must be 16 bytes' };
    const pb = encodeTraceResponse(partial, 'protobuf');
    expect(toObject(ExportTraceServiceResponse, pb)).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: partial.message },
    });
    expect(ProtobufTraceSerializer.deserializeResponse(pb)).toMatchObject({
      partialSuccess: { rejectedSpans: 2, errorMessage: partial.message },
    });
    const json = encodeTraceResponse(partial, 'json').toString();
    expect(json).toBe(`{"partialSuccess":{"rejectedSpans":"2","errorMessage":${JSON.stringify(partial.message)}}}`);
    // proto3 JSON parsers (here protobufjs fromObject) accept the string-encoded int64.
    const parsed = ExportTraceServiceResponse.fromObject(JSON.parse(json) as Record<string, unknown>);
    expect(toObject(ExportTraceServiceResponse, ExportTraceServiceResponse.encode(parsed).finish())).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: partial.message },
    });
  });

  it('encodes logs partial success, including a warning with nothing rejected', () => {
    const pb = encodeLogsResponse({ rejected: 5, message: 'bad ids' }, 'protobuf');
    expect(toObject(ExportLogsServiceResponse, pb)).toEqual({ partialSuccess: { rejectedLogRecords: '5', errorMessage: 'bad ids' } });
    expect(ProtobufLogsSerializer.deserializeResponse(pb)).toMatchObject({ partialSuccess: { rejectedLogRecords: 5 } });
    expect(encodeLogsResponse({ rejected: 5, message: 'bad ids' }, 'json').toString()).toBe(
      '{"partialSuccess":{"rejectedLogRecords":"5","errorMessage":"bad ids"}}',
    );
    expect(encodeLogsResponse({ rejected: 0, message: 'slow down' }, 'json').toString()).toBe('{"partialSuccess":{"errorMessage":"slow down"}}');
    expect(toObject(ExportLogsServiceResponse, encodeLogsResponse({ rejected: 0, message: 'slow down' }, 'protobuf'))).toEqual({
      partialSuccess: { errorMessage: 'slow down' },
    });
  });

  it('encodes google.rpc.Status', () => {
    const pb = encodeStatus(3, 'invalid protobuf: index out of range', 'protobuf');
    expect(toObject(RpcStatus, pb)).toEqual({ code: 3, message: 'invalid protobuf: index out of range' });
    expect(encodeStatus(8, 'too many requests', 'json').toString()).toBe('{"code":8,"message":"too many requests"}');
    expect(JSON.parse(encodeStatus(14, 'unavailable', 'json').toString())).toEqual({ code: 14, message: 'unavailable' });
  });
});

describe('root spans', () => {
  it('treats an all-zero parent span id as no parent, in JSON and protobuf', () => {
    const req = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  parentSpanId: '0000000000000000',
                  name: 'root',
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                },
              ],
            },
          ],
        },
      ],
    };
    const fromJson = decodeTraceRequest(Buffer.from(JSON.stringify(req)), 'json');
    expect(fromJson.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.parentSpanId).toBe('');
    const pbReq = ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
                  spanId: Buffer.from('b7ad6b7169203331', 'hex'),
                  parentSpanId: Buffer.alloc(8),
                  name: 'root',
                },
              ],
            },
          ],
        },
      ],
    });
    const fromPb = decodeTraceRequest(Buffer.from(ExportTraceServiceRequest.encode(pbReq).finish()), 'protobuf');
    expect(fromPb.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.parentSpanId).toBe('');
  });
});
