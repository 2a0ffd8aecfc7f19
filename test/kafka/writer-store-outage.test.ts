import { afterAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { KafkaWriter, type BatchSink } from '../../src/bus/kafka/writer.js';
import { KafkaProducerBus } from '../../src/bus/kafka/producer-bus.js';
import { pipelineError } from '../../src/component/errors.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { deadlineIn } from '../../src/component/component.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { isolatedKafka, testKafka } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

/**
 * The store side is a stand-in at the writer's consume edge (a ClickHouse outage cannot be produced on
 * the embedded engine): it refuses as unavailable until told otherwise. Kafka is real.
 */
class FlakyStore implements BatchSink {
  down = true;
  refused = 0;
  stored = new Map<string, string>();
  async consume(batch: IngestBatch, token: string): Promise<void> {
    if (this.down) {
      this.refused++;
      throw pipelineError('STORE_UNAVAILABLE', 'store unavailable: connect ECONNREFUSED 127.0.0.1:8123');
    }
    for (const g of batch.spans) for (const s of g.spans) this.stored.set(`${s.traceId}/${s.spanId}`, token);
  }
}

const writers: KafkaWriter[] = [];
afterAll(async () => {
  for (const w of writers) await w.shutdown(deadlineIn(30_000));
});

describe.skipIf(!brokers)('writer while the store is down', () => {
  it('retries with backoff, commits nothing, loses nothing, and catches up when the store returns', async () => {
    const overrides = isolatedKafka(brokers);
    const cfg = loadConfig({ env: {}, overrides }).bus.kafka;
    const log = pino({ level: 'silent' });
    const metrics = new Metrics();
    const producer = new KafkaProducerBus(cfg, metrics, log);
    await producer.start();
    const traces = Array.from({ length: 30 }, (_, i) => syntheticTrace(i));
    for (const t of traces) {
      const req = decodeTraceRequest(protobufBody(t.spans), 'protobuf');
      const groups = req.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.map((ss) => ({ project: 'outage', resource: rs.resource, scope: ss.scope, spans: ss.spans })),
      );
      await producer.publish({ spans: groups, logs: [] });
    }
    await producer.shutdown(deadlineIn(30_000));

    const store = new FlakyStore();
    const writer = new KafkaWriter(cfg, store, { batchMaxItems: 10_000 }, metrics, log);
    writers.push(writer);
    await writer.start();
    const admin = testKafka(brokers).admin();
    await admin.connect();
    const committed = async (): Promise<number> => {
      const [t] = await admin.fetchOffsets({ groupId: cfg.writer_group, topics: [cfg.topics.spans] });
      return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };
    const deadline = Date.now() + 20_000;
    while (store.refused < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(store.refused).toBeGreaterThanOrEqual(3);
    expect(await committed()).toBe(0);

    store.down = false;
    const spans = traces.reduce((n, t) => n + t.spans.length, 0);
    while (store.stored.size < spans && Date.now() < deadline + 20_000) await new Promise((r) => setTimeout(r, 100));
    expect(store.stored.size).toBe(spans);
    // The token names every offset range of the write (the writer joins partitions into one write).
    const range = `${cfg.topics.spans.replace('.', '\\.')}:\\d+:\\d+-\\d+`;
    for (const t of traces)
      for (const s of t.spans) expect(store.stored.get(`${t.traceId}/${s.spanContext().spanId}`)).toMatch(new RegExp(`^${range}(,${range})*$`));
    const total = (await admin.fetchTopicOffsets(cfg.topics.spans)).reduce((n, p) => n + Number(p.high), 0);
    while ((await committed()) < total && Date.now() < deadline + 40_000) await new Promise((r) => setTimeout(r, 100));
    expect(await committed()).toBe(total);
    await admin.disconnect();
  });
});
