import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { decodeBusMessage } from '../../src/bus/kafka/decode-message.js';
import { KAFKA_PROJECT_HEADER } from '../../src/bus/kafka/messages.js';
import { murmur2Partition, saramaCompatPartition } from '../../src/bus/kafka/partitioner.js';
import { freePort } from '../setup/kafka.js';
import { removeDir } from '../helpers/app.js';
import { isolatedKafka, testKafka } from '../helpers/kafka.js';
import { configYaml, startRole, type RoleProcess } from '../helpers/processes.js';
import { protobufBody, syntheticTrace } from '../helpers/synthetic.js';

const brokers = inject('kafkaBrokers');
const procs: RoleProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

/**
 * Every message of `topic`, read from the start until `count` spans were seen; each must be on the
 * partition `partitionOf` gives its key (every producer on the topics must agree with the writers').
 */
async function readSpans(topic: string, count: number, partitionOf: (key: Buffer) => number): Promise<Map<string, { project: string; spans: string[] }>> {
  const consumer = testKafka(brokers as string).consumer({ groupId: `${topic}-check` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const byKey = new Map<string, { project: string; spans: string[] }>();
  let seen = 0;
  // A failed check ends the read with that failure (thrown inside eachMessage, kafkajs would retry the message forever).
  let failure: unknown;
  const check = (message: { key: Buffer | null; value: Buffer | null; headers?: unknown }, partition: number): void => {
    expect(partition, `partition of trace ${message.key?.toString()}`).toBe(partitionOf(message.key as Buffer));
    const headers = message.headers as Record<string, Buffer>;
    const batch = decodeBusMessage('spans', message.value, headers);
    const key = message.key?.toString() ?? '';
    for (const g of batch.spans) {
      for (const s of g.spans) {
        expect(s.traceId).toBe(key);
        const e = byKey.get(key) ?? { project: g.project, spans: [] };
        e.spans.push(s.spanId);
        byKey.set(key, e);
        seen++;
      }
    }
    expect(headers[KAFKA_PROJECT_HEADER]?.toString()).toBe('role');
  };
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (failure !== undefined) return;
        try {
          check(message, partition);
        } catch (err) {
          failure = err;
          resolve();
        }
        if (seen >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  if (failure !== undefined) throw failure;
  return byKey;
}

describe.skipIf(!brokers)('receiver role on Kafka', () => {
  const producers = [
    { name: 'kafkajs on the main thread', settings: { 'bus.kafka.client': 'kafkajs' }, partitionOf: saramaCompatPartition },
    { name: 'kafkajs in a worker thread', settings: { 'bus.kafka.producer_thread': true }, partitionOf: saramaCompatPartition },
    { name: 'librdkafka', settings: { 'bus.kafka.client': 'librdkafka' }, partitionOf: saramaCompatPartition },
    { name: 'librdkafka, murmur2', settings: { 'bus.kafka.client': 'librdkafka', 'bus.kafka.partitioner': 'murmur2' }, partitionOf: murmur2Partition },
  ];
  for (const producer of producers) {
    it(`produces one message per trace of every acknowledged span, on its partition, with ${producer.name}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tracehouse-recv-'));
      dirs.push(dir);
      const bus = isolatedKafka(brokers as string, { log_level: 'warn', ...producer.settings });
      const config = join(dir, 'tracehouse.yaml');
      writeFileSync(config, configYaml(bus));
      const httpPort = await freePort();
      const receiver = await startRole([
        'receiver',
        '--config',
        config,
        '--http-port',
        String(httpPort),
        '--grpc-port',
        String(await freePort()),
        '--telemetry-port',
        String(await freePort()),
      ]);
      procs.push(receiver);
      // 20 requests of 5 traces × 3 spans, 4 at a time: concurrent requests share Kafka sends.
      const requests = Array.from({ length: 20 }, (_, r) => Array.from({ length: 5 }, (_, k) => syntheticTrace(r * 5 + k)));
      const expected = new Map<string, string[]>();
      let next = 0;
      const send = async (): Promise<void> => {
        while (next < requests.length) {
          const batch = requests[next++] as ReturnType<typeof syntheticTrace>[];
          const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': 'role' },
            body: protobufBody(batch.flatMap((t) => t.spans)),
          });
          expect(res.status).toBe(200);
          for (const t of batch) expected.set(t.traceId, t.spans.map((s) => s.spanContext().spanId).sort());
        }
      };
      await Promise.all([send(), send(), send(), send()]);
      const partitions = bus['bus.kafka.partitions'] as number;
      const got = await readSpans(bus['bus.kafka.topics.spans'] as string, 300, (key) => producer.partitionOf(key, partitions));
      expect(new Map([...got].map(([k, v]) => [k, v.spans.sort()]))).toEqual(expected);
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }, 120_000);
  }
});
