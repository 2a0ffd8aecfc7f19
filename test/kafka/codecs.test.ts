import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { CODECS, compressionType } from '../../src/bus/kafka/codecs.js';
import type { KafkaConfig } from '../../src/bus/kafka/client.js';
import { murmur2Partition, saramaCompatPartition } from '../../src/bus/kafka/partitioner.js';
import { KafkaProducerBus } from '../../src/bus/kafka/producer-bus.js';
import { KafkaWriter, type BatchSink } from '../../src/bus/kafka/writer.js';
import { deadlineIn } from '../../src/component/component.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { loadConfig } from '../../src/config/load.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { encodeTraceRequest } from '../../src/otlp/encode-request.js';
import { streamedZstd, xerialSnappy } from '../helpers/codecs.js';
import { isolatedKafka, readTopic, testKafka } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

/** The store side at the writer's consume edge: counts every span it is given, with its project. */
class CountingStore implements BatchSink {
  readonly times = new Map<string, number>();
  readonly projects = new Map<string, string>();
  async consume(batch: IngestBatch): Promise<void> {
    for (const g of batch.spans) {
      for (const s of g.spans) {
        const id = `${s.traceId}/${s.spanId}`;
        this.times.set(id, (this.times.get(id) ?? 0) + 1);
        this.projects.set(s.traceId, g.project);
      }
    }
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const saved = Object.fromEntries(Object.entries(CODECS).map(([k, v]) => [k, { ...v }]));
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) Object.assign(CODECS[k as keyof typeof CODECS], v);
});

const config = (extra: Record<string, unknown> = {}): KafkaConfig => loadConfig({ env: {}, overrides: isolatedKafka(brokers, extra) }).bus.kafka;

// Generous: on a loaded machine the writer's first offset commit can take longer than 30 s (a CI once
// failed on that 30 s wait). The tests' timeouts leave room for two such waits.
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 100_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

type Trace = ReturnType<typeof syntheticTrace>;

async function publish(cfg: KafkaConfig, traces: Trace[]): Promise<void> {
  const producer = new KafkaProducerBus(cfg, new Metrics(), pino({ level: 'silent' }));
  await producer.start();
  const spans = traces.flatMap((t) => {
    const req = decodeTraceRequest(protobufBody(t.spans), 'protobuf');
    return req.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: 'codecs', resource: rs.resource, scope: ss.scope, spans: ss.spans })));
  });
  // One request: its messages go out in one send, one record batch per partition.
  await producer.publish({ spans, logs: [] });
  await producer.shutdown(deadlineIn(30_000));
}

function startWriter(cfg: KafkaConfig, store: BatchSink, metrics = new Metrics()): KafkaWriter {
  const writer = new KafkaWriter(cfg, store, { batchMaxItems: 10_000 }, metrics, pino({ level: 'silent' }));
  cleanups.push(() => writer.shutdown(deadlineIn(30_000)));
  return writer;
}

async function committedAll(cfg: KafkaConfig): Promise<boolean> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(cfg.topics.spans);
    const [t] = await admin.fetchOffsets({ groupId: cfg.writer_group, topics: [cfg.topics.spans] });
    return ends.every((e) => Number(t?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) === Number(e.high));
  } finally {
    await admin.disconnect();
  }
}

const spanIds = (traces: Trace[]): string[] => traces.flatMap((t) => t.spans.map((s) => `${t.traceId}/${s.spanContext().spanId}`)).sort();

describe.skipIf(!brokers)('Kafka compression: every codec a Collector or Kafka client uses', () => {
  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'messages produced with %s are written exactly once',
    async (compression) => {
      const cfg = config({ 'bus.kafka.compression': compression });
      const traces = Array.from({ length: 20 }, (_, i) => syntheticTrace(i));
      await publish(cfg, traces);
      // The writer reads batches compressed with that codec: it has to decompress them.
      let decompressed = 0;
      const real = CODECS[compression].decompress;
      CODECS[compression].decompress = (b) => {
        decompressed++;
        return real(b);
      };
      const store = new CountingStore();
      await startWriter(cfg, store).start();
      await until(() => store.times.size >= traces.length * 3);
      expect([...store.times.keys()].sort()).toEqual(spanIds(traces));
      expect([...store.times.values()].every((n) => n === 1)).toBe(true);
      expect(decompressed).toBeGreaterThan(0);
      await until(() => committedAll(cfg));
      expect(await committedAll(cfg)).toBe(true);
    },
    240_000,
  );

  it("places each trace on the partition the Collector's default hasher picks for its id", async () => {
    const cfg = config({ 'bus.kafka.partitions': 6 });
    expect(cfg.partitioner).toBe('sarama_compat');
    const traces = Array.from({ length: 25 }, (_, i) => syntheticTrace(i));
    await publish(cfg, traces);
    const messages = await readTopic(brokers, cfg.topics.spans, traces.length);
    expect(messages).toHaveLength(traces.length);
    for (const m of messages) expect(m.partition, m.key ?? '').toBe(saramaCompatPartition(Buffer.from(m.key ?? ''), 6));
    // And with murmur2, where the Java client would put them.
    const java = config({ 'bus.kafka.partitions': 6, 'bus.kafka.partitioner': 'murmur2' });
    await publish(java, traces);
    const placed = await readTopic(brokers, java.topics.spans, traces.length);
    for (const m of placed) expect(m.partition, m.key ?? '').toBe(murmur2Partition(Buffer.from(m.key ?? ''), 6));
  });

  it.each([
    ['snappy', 'xerial framing, as the Java client writes it', xerialSnappy],
    ['zstd', 'a streamed frame without a content size, as the Java client writes it', streamedZstd],
  ] as const)(
    '%s in %s is written exactly once',
    async (name, _how, encode) => {
      const cfg = config({ 'bus.kafka.compression': name, 'bus.kafka.partitions': 1 });
      CODECS[name].compress = async (b) => encode(b);
      const traces = Array.from({ length: 10 }, (_, i) => syntheticTrace(i));
      await publish(cfg, traces);
      Object.assign(CODECS[name], saved[name]);
      const store = new CountingStore();
      await startWriter(cfg, store).start();
      await until(() => store.times.size >= traces.length * 3);
      expect([...store.times.keys()].sort()).toEqual(spanIds(traces));
      expect([...store.times.values()].every((n) => n === 1)).toBe(true);
    },
    240_000,
  );

  it('an undecodable compressed batch goes to the dead-letter topic as its offset range, and later messages are written', async () => {
    const cfg = config({ 'bus.kafka.compression': 'zstd', 'bus.kafka.partitions': 1 });
    const bad = Array.from({ length: 3 }, (_, i) => syntheticTrace(i));
    await publish(cfg, bad);
    // The broker accepted a valid batch; here the consumer's codec fails on it, as a codec that cannot
    // read some producer's output would.
    CODECS.zstd.decompress = async () => {
      throw new Error('Unknown frame descriptor');
    };
    const store = new CountingStore();
    const metrics = new Metrics();
    await startWriter(cfg, store, metrics).start();

    const dead = await readTopic(brokers, cfg.topics.dead_letter, 1);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value).toBeNull();
    expect(dead[0]?.headers['tracehouse-error-code']).toBe('UNDECODABLE_MESSAGE');
    expect(dead[0]?.headers['tracehouse-source']).toBe(`${cfg.topics.spans}/0/0-2`);
    expect(dead[0]?.headers['tracehouse-error']).toBe('the zstd record batch at offsets 0-2 (3 records) cannot be decompressed: Unknown frame descriptor');
    const counted = (await metrics.deadLettered.get()).values.find((v) => v.labels.reason === 'UNDECODABLE_MESSAGE');
    expect(counted?.value).toBe(3);

    Object.assign(CODECS.zstd, saved.zstd);
    const later = Array.from({ length: 2 }, (_, i) => syntheticTrace(10 + i));
    await publish(cfg, later);
    await until(() => store.times.size >= later.length * 3);
    expect([...store.times.keys()].sort()).toEqual(spanIds(later));
    await until(() => committedAll(cfg));
    expect(await committedAll(cfg)).toBe(true);
  });

  it('a message without a project header lands in the topic’s default project; a resource attribute still wins', async () => {
    const cfg = config({ 'bus.kafka.default_project': { spans: 'from-collector' }, 'bus.kafka.partitions': 1 });
    const [plain, named] = [syntheticTrace(0), syntheticTrace(1)];
    const withAttribute = decodeTraceRequest(protobufBody(named!.spans), 'protobuf');
    for (const rs of withAttribute.resourceSpans) rs.resource.attributes['tracehouse.project'] = 'team-a';
    const store = new CountingStore();
    await startWriter(cfg, store).start(); // creates the topics
    // As a Collector's exporter produces them: OTLP protobuf keyed by trace id, no headers.
    const producer = testKafka(brokers).producer();
    await producer.connect();
    await producer.send({
      topic: cfg.topics.spans,
      compression: compressionType('lz4'),
      messages: [
        { key: plain!.traceId, value: protobufBody(plain!.spans) },
        { key: named!.traceId, value: encodeTraceRequest(withAttribute) },
      ],
    });
    await producer.disconnect();
    await until(() => store.projects.size >= 2);
    expect(store.projects.get(plain!.traceId)).toBe('from-collector');
    expect(store.projects.get(named!.traceId)).toBe('team-a');
  });
});
