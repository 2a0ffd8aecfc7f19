import { afterAll, describe, expect, inject, it } from 'vitest';
import { deadlineIn } from '../../src/component/component.js';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { KafkaWriter, type BatchSink } from '../../src/bus/kafka/writer.js';
import { KafkaProducerBus } from '../../src/bus/kafka/producer-bus.js';
import type { KafkaConfig } from '../../src/bus/kafka/client.js';
import { decodeBusMessage } from '../../src/bus/kafka/decode-message.js';
import { classifyStoreError } from '../../src/component/errors.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { isolatedKafka, readTopic, testKafka } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

/**
 * The store side is a stand-in at the writer's consume edge: it refuses a batch holding any of the `bad`
 * traces the way ClickHouse refuses data it cannot parse (classified as permanent), and stores the rest.
 * Kafka is real.
 */
class RefusingStore implements BatchSink {
  refused = 0;
  stored = new Set<string>();
  constructor(private readonly bad: ReadonlySet<string>) {}
  async consume(batch: IngestBatch): Promise<void> {
    const spans = batch.spans.flatMap((g) => g.spans);
    if (spans.some((s) => this.bad.has(s.traceId))) {
      this.refused++;
      throw classifyStoreError(Object.assign(new Error('Cannot parse input: expected a number'), { code: '27' }));
    }
    for (const s of spans) this.stored.add(`${s.traceId}/${s.spanId}`);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function publish(cfg: KafkaConfig, traces: Array<ReturnType<typeof syntheticTrace>>): Promise<void> {
  const producer = new KafkaProducerBus(cfg, new Metrics(), pino({ level: 'silent' }));
  await producer.start();
  for (const t of traces) {
    const req = decodeTraceRequest(protobufBody(t.spans), 'protobuf');
    const groups = req.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: 'dlq', resource: rs.resource, scope: ss.scope, spans: ss.spans })));
    await producer.publish({ spans: groups, logs: [] });
  }
  await producer.shutdown(deadlineIn(30_000));
}

/** Polls `cond` until it holds or `timeoutMs` passed; the caller asserts afterwards. */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

async function offsets(cfg: KafkaConfig): Promise<{ committed: () => Promise<number>; total: () => Promise<number> }> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  cleanups.push(() => admin.disconnect());
  return {
    committed: async () => {
      const [t] = await admin.fetchOffsets({ groupId: cfg.writer_group, topics: [cfg.topics.spans] });
      return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    },
    total: async () => (await admin.fetchTopicOffsets(cfg.topics.spans)).reduce((n, p) => n + Number(p.high), 0),
  };
}

describe.skipIf(!brokers)('writer when the store refuses a batch as invalid', () => {
  it('moves the batch to the dead-letter topic with the reason in headers, counts it, commits, and writes later batches', async () => {
    const cfg = loadConfig({ env: {}, overrides: isolatedKafka(brokers) }).bus.kafka;
    const traces = Array.from({ length: 10 }, (_, i) => syntheticTrace(i));
    const bad = new Set([traces[2], traces[5], traces[8]].map((t) => t!.traceId));
    await publish(cfg, traces);

    const store = new RefusingStore(bad);
    const metrics = new Metrics();
    // One message per insert, so a refused trace takes no good one with it.
    const writer = new KafkaWriter(cfg, store, { batchMaxItems: 1 }, metrics, pino({ level: 'silent' }));
    cleanups.push(() => writer.shutdown(deadlineIn(30_000)));
    await writer.start();

    const good = traces.filter((t) => !bad.has(t.traceId));
    const goodSpans = good.reduce((n, t) => n + t.spans.length, 0);
    await until(() => store.stored.size >= goodSpans);
    expect(store.stored.size).toBe(goodSpans);
    for (const t of good) for (const s of t.spans) expect(store.stored.has(`${t.traceId}/${s.spanContext().spanId}`)).toBe(true);

    const dead = await readTopic(brokers, cfg.topics.dead_letter, bad.size);
    expect(dead.map((m) => m.key).sort()).toEqual([...bad].sort());
    for (const m of dead) {
      expect(m.headers['tracehouse-error-code']).toBe('STORE_REJECTED');
      expect(m.headers['tracehouse-error']).toMatch(/^the store refused the batch .+: store rejected the data: Cannot parse input: expected a number$/);
      expect(m.headers['tracehouse-source']).toMatch(new RegExp(`^${cfg.topics.spans.replace('.', '\\.')}/\\d+/\\d+$`));
      // The payload and headers are the original message's: it can be replayed once the cause is fixed.
      const original = traces.find((t) => t.traceId === m.key);
      const replayed = decodeBusMessage('spans', m.value, m.headers);
      expect(replayed.spans.flatMap((g) => g.spans.map((s) => s.spanId)).sort()).toEqual(original?.spans.map((s) => s.spanContext().spanId).sort());
      expect(replayed.spans[0]?.project).toBe('dlq');
    }
    expect(store.refused).toBe(bad.size);
    const counted = (await metrics.deadLettered.get()).values.find((v) => v.labels.reason === 'STORE_REJECTED' && v.labels.topic === cfg.topics.spans);
    expect(counted?.value).toBe(bad.size);

    const { committed, total } = await offsets(cfg);
    await until(async () => (await committed()) >= (await total()));
    expect(await committed()).toBe(await total());
  });

  it('commits nothing while the dead-letter produce fails, and retries it', async () => {
    const cfg = loadConfig({ env: {}, overrides: isolatedKafka(brokers, { 'bus.kafka.partitions': 1 }) }).bus.kafka;
    const [first, later] = [syntheticTrace(0), syntheticTrace(1)];
    await publish(cfg, [first!]);

    const store = new RefusingStore(new Set([first!.traceId]));
    const writer = new KafkaWriter(cfg, store, { batchMaxItems: 1 }, new Metrics(), pino({ level: 'silent' }));
    cleanups.push(() => writer.shutdown(deadlineIn(30_000)));
    await writer.start();
    // A stand-in at the dead-letter edge: its sends fail until the gate opens.
    // biome-ignore lint/complexity/useLiteralKeys: the test reaches the private producer on purpose
    const real = writer['dlq'];
    if (!real) throw new Error('the writer has no dead-letter producer after start');
    let open = false;
    let failedSends = 0;
    // biome-ignore lint/complexity/useLiteralKeys: as above
    writer['dlq'] = {
      ...real,
      send: async (record) => {
        if (!open) {
          failedSends++;
          throw new Error('dead-letter broker unavailable');
        }
        return real.send(record);
      },
    };

    const { committed, total } = await offsets(cfg);
    await until(() => failedSends >= 3);
    expect(failedSends).toBeGreaterThanOrEqual(3);
    expect(await committed()).toBe(0);
    expect(store.refused).toBe(1);

    open = true;
    const dead = await readTopic(brokers, cfg.topics.dead_letter, 1);
    expect(dead.map((m) => m.key)).toEqual([first!.traceId]);
    await until(async () => (await committed()) >= 1);
    expect(await committed()).toBe(1);

    // The partition moved on: a later batch is written.
    await publish(cfg, [later!]);
    await until(() => store.stored.size >= later!.spans.length);
    expect(store.stored.size).toBe(later!.spans.length);
    await until(async () => (await committed()) >= (await total()));
    expect(await committed()).toBe(2);
  });
});
