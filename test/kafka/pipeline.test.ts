import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { FIXTURE_NAMES, fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { exportSpans } from '../helpers/exporters.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { isolatedKafka, readTopic, testKafka } from '../helpers/kafka.js';
import type { TraceInfoView, TraceDetailView } from '../../src/api/views.js';

const brokers = inject('kafkaBrokers');

/** Receiver → Kafka → writer → ClickHouse in one process, against a real broker. */
describe.skipIf(!brokers)('Kafka bus', () => {
  let t: TestApp;
  let bus: Record<string, unknown>;
  beforeAll(async () => {
    bus = isolatedKafka(brokers, { 'bus.kafka.max_message_bytes': 64 * 1024 });
    t = await startTestApp({ overrides: bus });
  });
  afterAll(async () => {
    await t?.stop();
  });
  const endpoint = (): { http: string; grpc: string } => ({ http: t.otlpHttp, grpc: t.otlpGrpc });
  const search = async (project: string): Promise<TraceInfoView[]> => {
    const r = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=${project}&max_results=100`);
    return r.body.traces;
  };
  const eventually = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('brings spans sent with the official exporters back from the API exactly once', async () => {
    for (const [i, name] of FIXTURE_NAMES.entries()) {
      const kind = (['proto', 'json', 'grpc'] as const)[i % 3] as 'proto' | 'json' | 'grpc';
      expect((await exportSpans(kind, endpoint(), fixtureSpans(name), `k-${name}`)).code).toBe(0);
      // Sent twice: the client retry case.
      expect((await exportSpans('proto', endpoint(), fixtureSpans(name), `k-${name}`)).code).toBe(0);
    }
    for (const name of FIXTURE_NAMES) {
      const facts = loadFacts(name);
      const traces = await eventually(
        () => search(`k-${name}`),
        (x) => x.reduce((n, tr) => n + tr.span_count, 0) >= facts.span_count,
      );
      expect(traces.map((x) => x.trace_id).sort()).toEqual(facts.traces.map((f) => f.trace_id).sort());
      expect(traces.reduce((n, tr) => n + tr.span_count, 0)).toBe(facts.span_count);
      for (const f of facts.traces) {
        const info = traces.find((x) => x.trace_id === f.trace_id) as TraceInfoView;
        expect(info.token_usage).toEqual(f.token_usage ?? { input_tokens: 0, output_tokens: 0, total_tokens: 0 });
        expect(info.state).toBe(f.state);
      }
    }
  });

  it('writes one OTLP protobuf message per trace, keyed by trace id, with the project in a header', async () => {
    const topic = bus['bus.kafka.topics.spans'] as string;
    const facts = loadFacts('mlflow');
    const msgs = (await readTopic(brokers, topic, 200, 10_000)).filter((m) => m.headers['tracehouse-project'] === 'k-mlflow');
    expect(msgs.length).toBeGreaterThanOrEqual(facts.traces.length);
    for (const m of msgs) {
      const req = decodeTraceRequest(m.value as Buffer, 'protobuf');
      const ids = new Set(req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))));
      expect([...ids]).toEqual([m.key]);
    }
    // All messages of one trace are on one partition.
    const partitions = new Map<string, Set<number>>();
    for (const m of msgs) partitions.set(m.key as string, (partitions.get(m.key as string) ?? new Set()).add(m.partition));
    for (const p of partitions.values()) expect(p.size).toBe(1);
  });

  it('splits a trace too big for one message and refuses only a single span over the limit', async () => {
    const spans = fixtureSpans('openinference');
    const traceId = loadFacts('openinference').traces[0]!.trace_id;
    const mine = spans.filter((s) => s.spanContext().traceId === traceId);
    // Four children of ~20 KB each: the trace (~80 KB) passes the 64 KB limit, each span fits.
    const root = mine.find((s) => !s.parentSpanContext)!;
    const big = [0, 1, 2, 3].map((i) => ({
      ...root,
      name: `chunk-${i}`,
      spanContext: () => ({ traceId, spanId: `00000000000000a${i}`, traceFlags: 1 }),
      parentSpanContext: root.spanContext(),
      attributes: { 'input.value': `${i}`.repeat(20_000) },
    }));
    const huge = {
      ...big[0]!,
      name: 'huge',
      spanContext: () => ({ traceId, spanId: '00000000000000ff', traceFlags: 1 }),
      attributes: { 'input.value': 'x'.repeat(100_000) },
    };

    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tracehouse-project': 'k-split' },
      body: Buffer.from((await import('@opentelemetry/otlp-transformer')).JsonTraceSerializer.serializeRequest([...mine, ...big, huge]) as Uint8Array),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } };
    expect(Number(body.partialSuccess?.rejectedSpans)).toBe(1);
    expect(body.partialSuccess?.errorMessage).toMatch(/span 00000000000000ff \("huge"\) is \d+ bytes encoded, over the bus limit/);

    const d = await eventually(
      async () => (await getJson<TraceDetailView>(`${t.api}/api/v1/traces/${traceId}?project=k-split`)).body,
      (x) => (x.spans?.length ?? 0) >= mine.length + 4,
    );
    expect(d.spans.map((s) => s.name).sort()).toEqual([...mine.map((s) => s.name), 'chunk-0', 'chunk-1', 'chunk-2', 'chunk-3'].sort());
    const msgs = (await readTopic(brokers, bus['bus.kafka.topics.spans'] as string, 500, 10_000)).filter((m) => m.headers['tracehouse-project'] === 'k-split');
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(m.key).toBe(traceId);
  });

  it('moves an undecodable message to the dead-letter topic and keeps the partition moving', async () => {
    const producer = testKafka(brokers).producer();
    await producer.connect();
    const spansTopic = bus['bus.kafka.topics.spans'] as string;
    // Same key as a real trace, so the poison sits on the partition that later data goes through.
    const traceId = loadFacts('traceloop').traces[1]!.trace_id;
    await producer.send({
      topic: spansTopic,
      messages: [{ key: traceId, value: Buffer.from('this is not protobuf \xff\xff'), headers: { 'tracehouse-project': 'k-poison' } }],
    });
    await producer.disconnect();
    expect((await exportSpans('proto', endpoint(), fixtureSpans('traceloop'), 'k-after-poison')).code).toBe(0);

    const traces = await eventually(
      () => search('k-after-poison'),
      (x) => x.length === 5,
    );
    expect(traces).toHaveLength(5);
    const dlq = await readTopic(brokers, bus['bus.kafka.topics.dead_letter'] as string, 1, 20_000);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.key).toBe(traceId);
    expect(dlq[0]!.headers['tracehouse-error']).toMatch(/invalid protobuf|index out of range|wire/i);
    expect(dlq[0]!.headers['tracehouse-source']).toMatch(new RegExp(`^${spansTopic.replace('.', '\\.')}/\\d+/\\d+$`));
    expect(await search('k-poison')).toHaveLength(0);
  });
});
