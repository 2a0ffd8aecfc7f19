import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { decodeBusMessage } from '../../src/bus/kafka/decode-message.js';
import { KAFKA_PROJECT_HEADER } from '../../src/bus/kafka/messages.js';
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

/** Every message of `topic`, read from the start until `count` spans were seen. */
async function readSpans(topic: string, count: number): Promise<Map<string, { project: string; spans: string[] }>> {
  const consumer = testKafka(brokers as string).consumer({ groupId: `${topic}-check` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const byKey = new Map<string, { project: string; spans: string[] }>();
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
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
        if (seen >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return byKey;
}

describe.skipIf(!brokers)('receiver role on Kafka', () => {
  for (const thread of [false, true]) {
    it(`produces one message per trace of every acknowledged span, with the producer ${thread ? 'in a worker thread' : 'on the main thread'}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tracehouse-recv-'));
      dirs.push(dir);
      const bus = isolatedKafka(brokers as string, { log_level: 'warn', 'bus.kafka.producer_thread': thread });
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
      const got = await readSpans(bus['bus.kafka.topics.spans'] as string, 300);
      expect(new Map([...got].map(([k, v]) => [k, v.spans.sort()]))).toEqual(expected);
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }, 120_000);
  }
});
