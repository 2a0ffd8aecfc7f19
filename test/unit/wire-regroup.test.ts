import { readFileSync } from 'node:fs';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { IngestBatch, Publisher, PublishOutcome, SpanMessage } from '../../src/component/consumer.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { decodeBusMessage } from '../../src/bus/kafka/decode-message.js';
import { ENVELOPE_BYTES, KAFKA_PROJECT_HEADER, spanMessages } from '../../src/bus/kafka/messages.js';
import { IngestHandler } from '../../src/receivers/otlp/ingest.js';
import { ExportTraceServiceRequest, otlpRoot } from '../../src/otlp/proto.js';
import { FIXTURE_NAMES, fixturePath } from '../helpers/fixtures.js';

/**
 * The receiver's wire regrouping (protobuf trace requests on a bus of per-trace messages) against the
 * object path (decode, validate, encode per trace): the same answers, and messages that decode the same.
 */

interface Sent {
  project: string;
  key: string | null;
  batch: IngestBatch;
}
type Result = { outcome: { rejected: number; message: string }; sent: Sent[] } | { error: string };

/** Publishers as the Kafka bus is to the receiver, keeping what they were handed (no broker: the bytes are compared). */
function objectPublisher(maxBytes: number, sent: Sent[]): Publisher {
  return {
    publish: async (batch: IngestBatch): Promise<PublishOutcome> => {
      const packed = spanMessages(batch.spans, maxBytes);
      for (const m of packed.messages)
        sent.push({ project: m.headers[KAFKA_PROJECT_HEADER] as string, key: m.key, batch: decodeBusMessage('spans', m.value, m.headers) });
      return { rejectedSpans: packed.rejected, rejectedLogs: 0, errors: packed.errors };
    },
  };
}
function wirePublisher(maxBytes: number, sent: Sent[]): Publisher {
  return {
    publish: () => Promise.reject(new Error('the wire path must not publish objects')),
    spanMessages: {
      limit: maxBytes - ENVELOPE_BYTES,
      publish: async (messages: readonly SpanMessage[]) => {
        for (const m of messages) {
          const headers = { [KAFKA_PROJECT_HEADER]: m.project };
          const batch = decodeBusMessage('spans', m.value, headers);
          expect(batch.spans.reduce((n, g) => n + g.spans.length, 0)).toBe(m.spans);
          sent.push({ project: m.project, key: m.key || null, batch });
        }
      },
    },
  };
}

interface Opts {
  header?: string;
  maxBytes?: number;
  retentionDays?: number;
  nowMs?: number;
}
async function run(wire: boolean, body: Buffer, o: Opts = {}): Promise<Result> {
  const sent: Sent[] = [];
  const max = o.maxBytes ?? 1024 * 1024;
  const bus = wire ? wirePublisher(max, sent) : objectPublisher(max, sent);
  const h = new IngestHandler(bus, new Metrics(), o.retentionDays ?? 0, () => o.nowMs ?? Date.now());
  try {
    const outcome = await h.handle('traces', body, 'protobuf', o.header, 'http');
    return { outcome, sent };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** Both paths agree on `body`; returns what they gave. */
async function same(body: Buffer, o: Opts = {}): Promise<Result> {
  const a = await run(false, body, o);
  const b = await run(true, body, o);
  expect(b).toEqual(a);
  return a;
}

const pb = (type: string, value: object): Buffer => {
  const t = otlpRoot.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
};
const request = (value: object): Buffer => Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(value)).finish());
const id = (n: number, bytes: number): Buffer => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const T0 = 1_700_000_000_000_000_000n;
function span(trace: number, sp: number, extra: object = {}): object {
  return {
    traceId: id(trace, 16),
    spanId: id(sp, 8),
    name: `span ${sp}`,
    kind: 1,
    startTimeUnixNano: Long.fromString(String(T0 + BigInt(sp)), true),
    endTimeUnixNano: Long.fromString(String(T0 + 1000n + BigInt(sp)), true),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'big', value: { intValue: Long.fromString('9007199254740993') } },
      { key: 'neg', value: { intValue: Long.fromNumber(-5) } },
      { key: 'bytes', value: { bytesValue: Buffer.from([1, 2, 3]) } },
      { key: 'dbl', value: { doubleValue: 3 } },
      { key: 'nan', value: { doubleValue: Number.NaN } },
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } }] } } },
    ],
    events: [{ timeUnixNano: Long.fromString(String(T0 + 5n), true), name: 'gen_ai.choice', attributes: [{ key: 'index', value: { intValue: 0 } }] }],
    links: [{ traceId: id(99, 16), spanId: id(98, 8) }],
    status: { code: 2, message: 'boom' },
    ...extra,
  };
}
const res = (attrs: Record<string, string>): object => ({
  attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
});
const scope = { name: 'lib', version: '1.0' };
function varint(n: number): Buffer {
  const o: number[] = [];
  for (let v = n; ; v >>>= 7) {
    if (v < 0x80) {
      o.push(v);
      return Buffer.from(o);
    }
    o.push((v & 0x7f) | 0x80);
  }
}

describe('wire regrouping of protobuf trace requests', () => {
  for (const name of FIXTURE_NAMES) {
    it(`gives the object path's messages and answer for the ${name} fixture, with and without a header`, async () => {
      const body = readFileSync(fixturePath(`${name}.traces.pb`));
      const r = await same(body);
      expect('sent' in r && r.sent.length).toBeGreaterThan(0);
      await same(body, { header: 'from-header' });
      // A message limit that splits the fixture's traces.
      await same(body, { maxBytes: ENVELOPE_BYTES + 4096 });
    });
  }

  it('regroups many traces, resources and scopes, refusing bad ids, bad projects and old spans alike', async () => {
    const body = request({
      resourceSpans: [
        {
          resource: res({ 'service.name': 'a', 'tracehouse.project': 'alpha' }),
          scopeSpans: [
            { scope, spans: [span(1, 1), span(2, 2), span(1, 3, { parentSpanId: id(1, 8) })] },
            { scope: { name: 'other' }, spans: [span(1, 4, { parentSpanId: Buffer.alloc(8) }), span(3, 5)] },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        },
        { resource: res({ 'service.name': 'b' }), scopeSpans: [{ scope, spans: [span(1, 6), span(2, 7)] }] },
        { resource: res({ 'tracehouse.project': 'not valid!' }), scopeSpans: [{ scope, spans: [span(4, 8)] }] },
        {
          resource: res({}),
          scopeSpans: [
            {
              scope,
              spans: [
                span(0, 9),
                span(5, 0),
                span(5, 10, { traceId: id(5, 8) }),
                span(5, 11, { spanId: id(11, 4) }),
                span(5, 12, { parentSpanId: id(1, 3) }),
                span(5, 13, { startTimeUnixNano: Long.fromString('18446744073709551615', true) }),
                span(5, 14, { startTimeUnixNano: Long.fromNumber(1) }),
              ],
            },
          ],
        },
        { scopeSpans: [{ spans: [span(6, 15)] }] }, // no resource, no scope
        { resource: res({ 'service.name': 'empty' }) }, // nothing in it
        { resource: res({}), scopeSpans: [{ scope, spans: [] }] },
      ],
    });
    const r = await same(body);
    if (!('sent' in r)) throw new Error(r.error);
    expect(r.outcome.rejected).toBe(7);
    expect(r.sent.map((m) => `${m.project}/${m.key?.slice(-2)}`)).toEqual([
      'alpha/01',
      'alpha/02',
      'alpha/03',
      'default/01',
      'default/02',
      'default/05',
      'default/06',
    ]);
    // With retention, the span at 1 ns is refused too.
    const withRetention = await same(body, { retentionDays: 30, nowMs: 1_700_000_000_000 });
    expect('outcome' in withRetention && withRetention.outcome.rejected).toBe(8);
    await same(body, { header: 'proj' });
    await same(body, { maxBytes: ENVELOPE_BYTES + 1500 });
  });

  it('refuses a span too large for a message alone, keeping the others', async () => {
    const huge = span(1, 2, { attributes: [{ key: 'x', value: { stringValue: 'y'.repeat(5000) } }] });
    const body = request({ resourceSpans: [{ resource: res({}), scopeSpans: [{ scope, spans: [span(1, 1), huge, span(1, 3)] }] }] });
    const run1 = await run(false, body, { maxBytes: ENVELOPE_BYTES + 3000 });
    const run2 = await run(true, body, { maxBytes: ENVELOPE_BYTES + 3000 });
    if (!('sent' in run1) || !('sent' in run2)) throw new Error('failed');
    expect(run2.sent).toEqual(run1.sent);
    expect(run2.outcome.rejected).toBe(1);
    // The byte count is of the bytes each path would send: the span's own, or re-encoded.
    const shape = (m: string): string => m.replace(/is \d+ bytes/, 'is N bytes');
    expect(shape(run2.outcome.message)).toBe(shape(run1.outcome.message));
  });

  it('keeps unknown fields, repeated resources (the last wins) and fields out of order', async () => {
    const RS = 'opentelemetry.proto.trace.v1.ResourceSpans';
    const rsA = pb(RS, { resource: res({ 'service.name': 'first', 'tracehouse.project': 'first' }) });
    const rsB = pb(RS, { scopeSpans: [{ scope, spans: [span(1, 1), span(2, 2)] }] });
    const rsC = pb(RS, { resource: res({ 'service.name': 'last' }) });
    const unknown = Buffer.from([0xf8, 0x3e, 0x05, 0xa2, 0x3f, 0x02, 0x68, 0x69]); // fields 999 (varint) and 1012 (len)
    const rs = Buffer.concat([rsA, rsB, unknown, rsC]);
    const body = Buffer.concat([Buffer.from([0x0a]), varint(rs.length), rs, unknown]);
    const r = await same(body);
    if (!('sent' in r)) throw new Error(r.error);
    expect(r.sent.map((m) => m.batch.spans[0]?.resource.attributes['service.name'])).toEqual(['last', 'last']);
    expect(r.sent.map((m) => m.project)).toEqual(['default', 'default']);
  });

  describe('refuses malformed bodies with the decoder’s own errors', () => {
    const good = request({ resourceSpans: [{ resource: res({ a: 'b' }), scopeSpans: [{ scope, spans: [span(1, 1), span(1, 2)] }] }] });
    const cases: Record<string, Buffer> = {
      'truncated body': good.subarray(0, good.length - 7),
      'truncated varint': Buffer.from([0x0a, 0xff, 0xff]),
      'over-long varint': Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'length past the end': Buffer.from([0x0a, 0x7f, 0x0a, 0x00]),
      'known field on another wire type': Buffer.from([0x08, 0x01]),
      'wire type 7': Buffer.from([0x0f]),
      'not protobuf': Buffer.from('{"resourceSpans": []}'),
    };
    // An AnyValue whose string_value arrives as a varint.
    const badValue = pb('opentelemetry.proto.trace.v1.Span', {});
    const kv = Buffer.from([0x0a, 0x01, 0x6b, 0x12, 0x02, 0x08, 0x01]); // key "k", value { field 1 varint }
    const spanBytes = Buffer.concat([badValue, Buffer.from([0x4a, kv.length]), kv]);
    const ss = Buffer.concat([Buffer.from([0x12, spanBytes.length]), spanBytes]);
    const rs = Buffer.concat([Buffer.from([0x12, ss.length]), ss]);
    cases['string value on a varint'] = Buffer.concat([Buffer.from([0x0a, rs.length]), rs]);
    // AnyValue nested past the depth bound (written by hand: protobufjs refuses to encode it).
    let deep = Buffer.from([0x0a, 0x01, 0x78]);
    for (let i = 0; i < 120; i++) {
      const arr = Buffer.concat([Buffer.from([0x0a]), varint(deep.length), deep]);
      deep = Buffer.concat([Buffer.from([0x2a]), varint(arr.length), arr]);
    }
    const deepKv = Buffer.concat([Buffer.from([0x0a, 0x01, 0x64, 0x12]), varint(deep.length), deep]);
    const deepSpan = Buffer.concat([pb('opentelemetry.proto.trace.v1.Span', span(1, 1)), Buffer.from([0x4a]), varint(deepKv.length), deepKv]);
    const deepSs = Buffer.concat([Buffer.from([0x12]), varint(deepSpan.length), deepSpan]);
    const deepRs = Buffer.concat([Buffer.from([0x12]), varint(deepSs.length), deepSs]);
    cases['nesting too deep'] = Buffer.concat([Buffer.from([0x0a]), varint(deepRs.length), deepRs]);
    for (const [name, body] of Object.entries(cases)) {
      it(name, async () => {
        const r = await same(body);
        expect('error' in r && r.error).toMatch(/^OtlpDecodeError: invalid protobuf/);
      });
    }
  });
});
