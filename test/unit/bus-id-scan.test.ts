import { readFileSync } from 'node:fs';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { IngestBatch, SpanGroup, SpanIdGroup } from '../../src/component/consumer.js';
import { decodeBusMessage, scanBusSpanIds, type RawHeaders } from '../../src/bus/kafka/decode-message.js';
import { KAFKA_PROJECT_HEADER, spanMessages } from '../../src/bus/kafka/messages.js';
import type { Attributes, Resource, Scope, Span, TraceRequest } from '../../src/model/otlp.js';
import { encodeTraceRequest } from '../../src/otlp/encode-request.js';
import { otlpRoot } from '../../src/otlp/proto.js';
import { FIXTURE_NAMES, fixturePath } from '../helpers/fixtures.js';

/** What the evaluator takes from a fully decoded message: the same shape the scan returns. */
const idsOf = (batch: IngestBatch): SpanIdGroup[] =>
  batch.spans.map((g) => ({ project: g.project, spans: g.spans.map((s) => ({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId })) }));

type Outcome = { ok: SpanIdGroup[] } | { error: string };
function outcome(f: () => SpanIdGroup[]): Outcome {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
const decoded = (value: Buffer | null, headers?: RawHeaders): Outcome => outcome(() => idsOf(decodeBusMessage('spans', value, headers)));
const scanned = (value: Buffer | null, headers?: RawHeaders): Outcome => outcome(() => scanBusSpanIds(value, headers));

/** The scan agrees with the full decode on this message; returns what both gave. */
function same(value: Buffer | null, headers?: RawHeaders): Outcome {
  const full = decoded(value, headers);
  expect(scanned(value, headers)).toEqual(full);
  return full;
}

const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
const tid = (n: number): string => hex(n, 16);
const sid = (n: number): string => hex(n, 8);

function span(traceId: string, spanId: string, parentSpanId = '', attributes: Attributes = {}): Span {
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState: '',
    name: `span ${spanId}`,
    kind: 1,
    startTimeNs: '1700000000000000000',
    endTimeNs: '1700000000100000000',
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': 'x'.repeat(200), ...attributes },
    events: [{ timeNs: '1700000000050000000', name: 'gen_ai.choice', attributes: { index: 0 } }],
    links: [],
    status: { code: 0, message: '' },
  };
}
const resource = (attributes: Attributes): Resource => ({ attributes: { 'service.name': 'svc', ...attributes } });
const scope: Scope = { name: 'lib', version: '1.0' };
const otherScope: Scope = { name: 'other-lib', version: '2.0' };

/** Protobuf encoding of a sub-message, for wire shapes the encoder does not write (field order, repeats). */
const pb = (type: string, value: object): Buffer => {
  const t = otlpRoot.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
};
const RS_TYPE = 'opentelemetry.proto.trace.v1.ResourceSpans';
/** Field 1 (resource_spans) of the request around already encoded ResourceSpans bytes. */
function request(...resourceSpans: Buffer[]): Buffer {
  return Buffer.concat(resourceSpans.map((rs) => Buffer.concat([Buffer.from([0x0a]), varint(rs.length), rs])));
}
function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}
const pbSpan = (traceId: string, spanId: string, parentSpanId = ''): object => ({
  traceId: Buffer.from(traceId, 'hex'),
  spanId: Buffer.from(spanId, 'hex'),
  parentSpanId: Buffer.from(parentSpanId, 'hex'),
  name: 'x',
  startTimeUnixNano: Long.fromString('1700000000000000000', true),
});
const pbProject = (value: object): object => ({ attributes: [{ key: 'tracehouse.project', value }] });

describe('id-only scan of bus messages', () => {
  it('reads what our producer writes exactly as the full decode does', () => {
    const r1 = resource({});
    const r2 = resource({ 'service.name': 'other', 'tracehouse.project': 'ignored-when-a-header-is-there' });
    const groups: SpanGroup[] = [
      { project: 'shop', resource: r1, scope, spans: [span(tid(1), sid(1)), span(tid(1), sid(2), sid(1)), span(tid(2), sid(3), sid(9))] },
      { project: 'shop', resource: r1, scope: otherScope, spans: [span(tid(1), sid(4), sid(2))] },
      { project: 'shop', resource: r2, scope, spans: [span(tid(2), sid(5), sid(3)), span(tid(1), sid(6), sid(1))] },
      { project: 'support', resource: r1, scope, spans: [span(tid(1), sid(7))] },
    ];
    const { messages, rejected } = spanMessages(groups, 1_000_000);
    expect(rejected).toBe(0);
    expect(messages).toHaveLength(3); // (shop, t1), (shop, t2), (support, t1)
    const seen = new Map<string, string[]>();
    for (const m of messages) {
      const got = same(m.value, m.headers);
      if (!('ok' in got)) throw new Error(got.error);
      for (const g of got.ok) for (const s of g.spans) seen.set(`${g.project}/${s.traceId}`, [...(seen.get(`${g.project}/${s.traceId}`) ?? []), s.spanId]);
    }
    expect(Object.fromEntries(seen)).toEqual({
      [`shop/${tid(1)}`]: [sid(1), sid(2), sid(4), sid(6)],
      [`shop/${tid(2)}`]: [sid(3), sid(5)],
      [`support/${tid(1)}`]: [sid(7)],
    });
  });

  it('reads a trace split across several messages by our producer', () => {
    const spans = Array.from({ length: 40 }, (_, i) => span(tid(7), sid(i + 1), i === 0 ? '' : sid(1)));
    const { messages } = spanMessages([{ project: 'p', resource: resource({}), scope, spans }], 4_096);
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) expect('ok' in same(m.value, m.headers)).toBe(true);
  });

  for (const name of FIXTURE_NAMES) {
    it(`reads the ${name} fixture (an SDK's request, as a Collector would put it on the topic), with and without a header`, () => {
      const body = readFileSync(fixturePath(`${name}.traces.pb`));
      const without = same(body, {});
      expect('ok' in without && without.ok.length).toBeGreaterThan(0);
      same(body, { [KAFKA_PROJECT_HEADER]: 'from-header' });
    });
  }

  it('resolves projects per resource in a multi-trace, multi-resource request without a header', () => {
    const req: TraceRequest = {
      resourceSpans: [
        { resource: resource({ 'tracehouse.project': 'alpha' }), scopeSpans: [{ scope, spans: [span(tid(1), sid(1)), span(tid(2), sid(2), sid(1))] }] },
        {
          resource: resource({}),
          scopeSpans: [
            { scope, spans: [span(tid(1), sid(3), sid(1))] },
            { scope: otherScope, spans: [span(tid(3), sid(4))] },
          ],
        },
        { resource: resource({ 'tracehouse.project': 'not valid!' }), scopeSpans: [{ scope, spans: [span(tid(4), sid(5))] }] },
        { resource: resource({ 'tracehouse.project': 42 }), scopeSpans: [{ scope, spans: [span(tid(5), sid(6))] }] },
        { resource: resource({ 'tracehouse.project': 'beta' }), scopeSpans: [{ scope, spans: [span(tid(6), sid(7))] }] },
      ],
    };
    expect(same(encodeTraceRequest(req), undefined)).toEqual({
      ok: [
        {
          project: 'alpha',
          spans: [
            { traceId: tid(1), spanId: sid(1), parentSpanId: '' },
            { traceId: tid(2), spanId: sid(2), parentSpanId: sid(1) },
          ],
        },
        { project: 'default', spans: [{ traceId: tid(1), spanId: sid(3), parentSpanId: sid(1) }] },
        { project: 'default', spans: [{ traceId: tid(3), spanId: sid(4), parentSpanId: '' }] },
        { project: 'beta', spans: [{ traceId: tid(6), spanId: sid(7), parentSpanId: '' }] },
      ],
    });
  });

  it("gives data without a header or project attribute the topic's default project, in the scan and the decode alike", () => {
    const req: TraceRequest = {
      resourceSpans: [
        { resource: resource({}), scopeSpans: [{ scope, spans: [span(tid(1), sid(1))] }] },
        { resource: resource({ 'tracehouse.project': 'alpha' }), scopeSpans: [{ scope, spans: [span(tid(2), sid(2))] }] },
      ],
    };
    const body = encodeTraceRequest(req);
    const full = idsOf(decodeBusMessage('spans', body, undefined, 'collector-fleet'));
    expect(scanBusSpanIds(body, undefined, 'collector-fleet')).toEqual(full);
    expect(full.map((g) => g.project)).toEqual(['collector-fleet', 'alpha']);
    // A header still decides for the whole message.
    expect(scanBusSpanIds(body, { [KAFKA_PROJECT_HEADER]: 'h' }, 'collector-fleet').map((g) => g.project)).toEqual(['h', 'h']);
  });

  it('drops the spans and groups validation drops, and reads an all-zero parent as a root', () => {
    const req: TraceRequest = {
      resourceSpans: [
        {
          resource: resource({}),
          scopeSpans: [
            { scope, spans: [span('0'.repeat(32), sid(1)), span(tid(1), '0'.repeat(16)), span(tid(1), 'abcd'), span('ab', sid(2))] },
            { scope, spans: [span(tid(1), sid(3), 'abcdef'), span(tid(1), sid(4), '0'.repeat(16)), span(tid(1), sid(5), sid(4))] },
          ],
        },
        { resource: resource({}), scopeSpans: [{ scope, spans: [span(tid(2), '')] }] },
      ],
    };
    expect(same(encodeTraceRequest(req), { [KAFKA_PROJECT_HEADER]: 'p' })).toEqual({
      ok: [
        {
          project: 'p',
          spans: [
            { traceId: tid(1), spanId: sid(4), parentSpanId: '' },
            { traceId: tid(1), spanId: sid(5), parentSpanId: sid(4) },
          ],
        },
      ],
    });
  });

  it('takes the project attribute as the decoder does: last resource, last key, last value member, bytes as base64', () => {
    const spans = { scopeSpans: [{ spans: [pbSpan(tid(1), sid(1))] }] };
    const cases: Array<[string, Buffer, string | null]> = [
      // The resource after its spans, and a second resource replacing the first.
      ['resource after spans', Buffer.concat([pb(RS_TYPE, spans), pb(RS_TYPE, { resource: pbProject({ stringValue: 'late' }) })]), 'late'],
      [
        'two resources',
        Buffer.concat([pb(RS_TYPE, { resource: pbProject({ stringValue: 'first' }) }), pb(RS_TYPE, spans), pb(RS_TYPE, { resource: { attributes: [] } })]),
        'default',
      ],
      [
        'repeated key',
        pb(RS_TYPE, {
          resource: {
            attributes: [
              { key: 'tracehouse.project', value: { stringValue: 'a' } },
              { key: 'tracehouse.project', value: { stringValue: 'b' } },
            ],
          },
          ...spans,
        }),
        'b',
      ],
      ['bytes value', pb(RS_TYPE, { resource: pbProject({ bytesValue: Buffer.from('proj01') }), ...spans }), 'cHJvajAx'],
      ['bytes value not a project', pb(RS_TYPE, { resource: pbProject({ bytesValue: Buffer.from([0xfb, 0xff]) }), ...spans }), null],
      ['empty value', pb(RS_TYPE, { resource: pbProject({}), ...spans }), null],
      ['bool value', pb(RS_TYPE, { resource: pbProject({ boolValue: true }), ...spans }), null],
      ['array value', pb(RS_TYPE, { resource: pbProject({ arrayValue: { values: [{ stringValue: 'a' }] } }), ...spans }), null],
      [
        'similar key',
        pb(RS_TYPE, {
          resource: {
            attributes: [
              { key: 'tracehouse.projects', value: { stringValue: 'no' } },
              { key: '\ufefftracehouse.project', value: { stringValue: 'no' } },
            ],
          },
          ...spans,
        }),
        'default',
      ],
    ];
    for (const [label, rs, project] of cases) {
      const got = same(request(rs), {});
      expect(got, label).toEqual({ ok: project === null ? [] : [{ project, spans: [{ traceId: tid(1), spanId: sid(1), parentSpanId: '' }] }] });
    }
    // The last member of the value's oneof wins: a string then an int is an int (invalid), an int then a string a string.
    const intThenString = Buffer.concat([
      pb('opentelemetry.proto.common.v1.AnyValue', { intValue: 3 }),
      pb('opentelemetry.proto.common.v1.AnyValue', { stringValue: 'won' }),
    ]);
    const kv = Buffer.concat([
      pb('opentelemetry.proto.common.v1.KeyValue', { key: 'tracehouse.project' }),
      Buffer.from([0x12]),
      varint(intThenString.length),
      intThenString,
    ]);
    const res = Buffer.concat([Buffer.from([0x0a]), varint(kv.length), kv]);
    const rs = Buffer.concat([Buffer.from([0x0a]), varint(res.length), res, pb(RS_TYPE, spans)]);
    expect(same(request(rs), {})).toEqual({ ok: [{ project: 'won', spans: [{ traceId: tid(1), spanId: sid(1), parentSpanId: '' }] }] });
  });

  it('refuses what the decode refuses: no value, an invalid project header, bytes that are not OTLP', () => {
    expect(same(null, {})).toEqual({ error: 'empty message' });
    expect('error' in same(Buffer.from('x'), { [KAFKA_PROJECT_HEADER]: 'bad project' })).toBe(true);
    expect('error' in same(Buffer.from('x'), { [KAFKA_PROJECT_HEADER]: [Buffer.from('')] })).toBe(true);
    expect(same(Buffer.alloc(0), {})).toEqual({ ok: [] });
    for (const junk of [
      Buffer.from('{"resourceSpans":[]}'),
      Buffer.from([0x0a, 0x05, 0x01]),
      Buffer.from([0x0f]),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ]) {
      expect('error' in same(junk, {}), junk.toString('hex')).toBe(true);
    }
  });

  it('agrees with the decode on every truncation of a message', () => {
    const body = encodeTraceRequest({
      resourceSpans: [
        { resource: resource({ 'tracehouse.project': 'alpha' }), scopeSpans: [{ scope, spans: [span(tid(1), sid(1)), span(tid(1), sid(2), sid(1))] }] },
        { resource: resource({}), scopeSpans: [{ scope, spans: [span(tid(2), sid(3))] }] },
      ],
    });
    let failed = 0;
    for (let n = 0; n <= body.length; n++) if ('error' in same(body.subarray(0, n), {})) failed++;
    expect(failed).toBeGreaterThan(body.length - 5); // all but the cuts between two resource_spans
  });

  it('never refuses what the decode accepts, and then gives the same ids (random corruption)', () => {
    const body = encodeTraceRequest({
      resourceSpans: [
        { resource: resource({ 'tracehouse.project': 'alpha' }), scopeSpans: [{ scope, spans: [span(tid(1), sid(1)), span(tid(1), sid(2), sid(1))] }] },
      ],
    });
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 3_000; i++) {
      const bad = Buffer.from(body);
      for (let k = 1 + rand(3); k > 0; k--) bad[rand(bad.length)] = rand(256);
      const full = decoded(bad, {});
      if ('ok' in full) {
        accepted++;
        expect(scanned(bad, {})).toEqual(full);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('does not look inside fields it skips: a message broken only in a span attribute scans but does not decode', () => {
    const good = pb(RS_TYPE, { scopeSpans: [{ spans: [{ ...pbSpan(tid(1), sid(1)), attributes: [{ key: 'k', value: { stringValue: 'v' } }] }] }] });
    // The attribute's AnyValue (field 2 of KeyValue) holds a tag of the invalid wire type 7.
    const at = good.indexOf(Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x76]));
    expect(at).toBeGreaterThan(0);
    const broken = Buffer.from(good);
    broken[at + 2] = 0x0f;
    expect('error' in decoded(request(broken), {})).toBe(true);
    expect(scanned(request(broken), {})).toEqual({ ok: [{ project: 'default', spans: [{ traceId: tid(1), spanId: sid(1), parentSpanId: '' }] }] });
  });
});
