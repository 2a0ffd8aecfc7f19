import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { KafkaConfig } from '../../src/bus/kafka/client.js';
import { KafkaEvaluatorSource, type SpanPosition } from '../../src/bus/kafka/evaluator-source.js';
import { KafkaProducerBus } from '../../src/bus/kafka/producer-bus.js';
import { KafkaWriter, type BatchSink } from '../../src/bus/kafka/writer.js';
import { deadlineIn } from '../../src/component/component.js';
import type { IngestBatch, SpanIdGroup } from '../../src/component/consumer.js';
import type { Sleep } from '../../src/component/retry.js';
import { Metrics } from '../../src/component/telemetry/metrics.js';
import { Readiness, TelemetryServer } from '../../src/component/telemetry/ops.js';
import { loadConfig } from '../../src/config/load.js';
import type { Evaluator } from '../../src/evaluate/evaluator.js';
import { decodeTraceRequest } from '../../src/otlp/decode.js';
import { isolatedKafka } from '../helpers/kafka.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

async function publish(cfg: KafkaConfig, trace: ReturnType<typeof syntheticTrace>): Promise<void> {
  const producer = new KafkaProducerBus(cfg, new Metrics(), pino({ level: 'silent' }));
  await producer.start();
  const req = decodeTraceRequest(protobufBody(trace.spans), 'protobuf');
  await producer.publish({
    spans: req.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ({ project: 'sup', resource: rs.resource, scope: ss.scope, spans: ss.spans }))),
    logs: [],
  });
  await producer.shutdown(deadlineIn(30_000));
}

/**
 * The error kafkajs itself raises for a codec it does not have (the crash of the issue): its runner gives
 * up on it at once instead of retrying, and the consumer stops for good unless someone restarts it.
 */
const notImplemented = (): Error => Object.assign(new Error('ZSTD compression not implemented'), { name: 'KafkaJSNotImplemented' });

/** A restart wait the test holds open: the consumer stays down until `open()`. */
function heldRestart(): { sleep: Sleep; waits: () => number; open: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let waits = 0;
  return {
    sleep: async () => {
      waits++;
      await gate;
    },
    waits: () => waits,
    open: () => release(),
  };
}

async function ops(readiness: Readiness, metrics: Metrics): Promise<(path: string) => Promise<{ status: number; body: string }>> {
  const server = new TelemetryServer({ host: '127.0.0.1', port: 0 }, metrics, readiness);
  await server.start();
  cleanups.push(() => server.shutdown(deadlineIn(5_000)));
  return async (path) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, body: await res.text() };
  };
}

const gauge = async (metrics: Metrics, group: string): Promise<number | undefined> =>
  (await metrics.consumerUp.get()).values.find((v) => v.labels.group === group)?.value;
const crashes = async (metrics: Metrics, group: string): Promise<number | undefined> =>
  (await metrics.consumerCrashes.get()).values.find((v) => v.labels.group === group)?.value;

describe.skipIf(!brokers)('consumer supervision', () => {
  it('a crashed writer consumer is counted, fails /readyz while down, and rejoins and writes on', async () => {
    const cfg = loadConfig({ env: {}, overrides: isolatedKafka(brokers, { 'bus.kafka.partitions': 1 }) }).bus.kafka;
    const stored = new Map<string, number>();
    const store: BatchSink = {
      consume: async (batch: IngestBatch) => {
        for (const g of batch.spans) for (const s of g.spans) stored.set(s.spanId, (stored.get(s.spanId) ?? 0) + 1);
      },
    };
    let crashNext = true;
    const observer = {
      observe: () => {
        if (!crashNext) return;
        crashNext = false;
        throw notImplemented();
      },
    };
    const restart = heldRestart();
    const metrics = new Metrics();
    const writer = new KafkaWriter(
      cfg,
      store,
      { batchMaxItems: 1000, restartSleep: restart.sleep },
      metrics,
      pino({ level: 'silent' }),
      cfg.writer_group,
      observer,
    );
    cleanups.push(() => writer.shutdown(deadlineIn(30_000)));
    const readiness = new Readiness();
    readiness.add('kafka-consumer', () => writer.ready());
    const get = await ops(readiness, metrics);

    await writer.start();
    expect((await get('/readyz')).status).toBe(200);
    expect(await gauge(metrics, cfg.writer_group)).toBe(1);

    const first = syntheticTrace(0);
    await publish(cfg, first);
    await until(() => restart.waits() >= 1);
    expect(restart.waits()).toBe(1);
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).checks).toEqual({ 'kafka-consumer': 'unavailable' });
    expect(await crashes(metrics, cfg.writer_group)).toBe(1);
    expect(await gauge(metrics, cfg.writer_group)).toBe(0);
    expect((await get('/metrics')).body).toMatch(new RegExp(`tracehouse_consumer_crashes_total\\{group="${cfg.writer_group}"\\} 1`));

    restart.open();
    await until(async () => (await get('/readyz')).status === 200);
    expect((await get('/readyz')).status).toBe(200);
    expect(await gauge(metrics, cfg.writer_group)).toBe(1);
    const second = syntheticTrace(1);
    await publish(cfg, second);
    const ids = [...first.spans, ...second.spans].map((s) => s.spanContext().spanId);
    await until(() => ids.every((id) => stored.has(id)));
    // The batch before the crash was committed before it: nothing is lost and nothing written twice.
    expect(ids.map((id) => stored.get(id))).toEqual(ids.map(() => 1));
    expect(await crashes(metrics, cfg.writer_group)).toBe(1);
  });

  it('a crashed evaluator consumer is counted, fails /readyz while down, and rejoins and reads on', async () => {
    const cfg = loadConfig({ env: {}, overrides: isolatedKafka(brokers, { 'bus.kafka.partitions': 1 }) }).bus.kafka;
    const seen: string[] = [];
    let crashNext = true;
    // A stand-in for the evaluator at the source's edge: it records the traces it is told about.
    const evaluator = {
      observeIds: (groups: Iterable<SpanIdGroup>) => {
        if (crashNext) {
          crashNext = false;
          throw notImplemented();
        }
        for (const g of groups) for (const s of g.spans) seen.push(s.traceId);
      },
      outstandingPositions: (): SpanPosition[] => [],
    } as unknown as Evaluator<SpanPosition>;
    const restart = heldRestart();
    const metrics = new Metrics();
    const source = new KafkaEvaluatorSource(cfg, evaluator, metrics, pino({ level: 'silent' }), restart.sleep);
    cleanups.push(() => source.shutdown(deadlineIn(30_000)));
    const readiness = new Readiness();
    readiness.add('kafka-evaluator-consumer', () => source.ready());
    const get = await ops(readiness, metrics);

    await source.start();
    expect((await get('/readyz')).status).toBe(200);
    const first = syntheticTrace(0);
    await publish(cfg, first);
    await until(() => restart.waits() >= 1);
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).checks).toEqual({ 'kafka-evaluator-consumer': 'unavailable' });
    expect(await crashes(metrics, cfg.evaluator_group)).toBe(1);

    restart.open();
    await until(async () => (await get('/readyz')).status === 200);
    expect((await get('/readyz')).status).toBe(200);
    // Nothing was committed past the message it crashed on: the new consumer reads it again.
    await until(() => seen.includes(first.traceId));
    expect(seen).toContain(first.traceId);
    const second = syntheticTrace(1);
    await publish(cfg, second);
    await until(() => seen.includes(second.traceId));
    expect(seen).toContain(second.traceId);
  });
});
