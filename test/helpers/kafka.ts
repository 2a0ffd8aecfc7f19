import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** Bus settings with topics and groups of their own, so test files sharing a broker never meet. */
export function isolatedKafka(brokers: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const id = randomBytes(4).toString('hex');
  return {
    'bus.kind': 'kafka',
    'bus.kafka.brokers': brokers.split(','),
    'bus.kafka.topics.spans': `t${id}.spans`,
    'bus.kafka.topics.logs': `t${id}.logs`,
    'bus.kafka.topics.dead_letter': `t${id}.dlq`,
    'bus.kafka.writer_group': `t${id}-writer`,
    'bus.kafka.evaluator_group': `t${id}-evaluator`,
    'bus.kafka.partitions': 3,
    ...extra,
  };
}

export function testKafka(brokers: string): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'tracehouse-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

export interface ReadMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads a topic from the beginning until `count` messages arrived, or nothing new came for `idleMs` after
 * the first message, or the deadline passed.
 */
export async function readTopic(brokers: string, topic: string, count: number, timeoutMs = 30_000, idleMs = 2_000): Promise<ReadMessage[]> {
  const consumer = testKafka(brokers).consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const out: ReadMessage[] = [];
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
      out.push({ key: message.key?.toString() ?? null, value: message.value, headers, partition, offset: message.offset });
    },
  });
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  let lastChange = Date.now();
  while (out.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (out.length !== seen) {
      seen = out.length;
      lastChange = Date.now();
    } else if (seen > 0 && Date.now() - lastChange > idleMs) break;
  }
  await consumer.disconnect();
  return out;
}

/** Waits until a consumer group has committed everything on its topics. */
export async function waitForGroupCaughtUp(brokers: string, groupId: string, topics: string[], timeoutMs = 60_000): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let behind = 0;
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const e of ends) {
          const c = committed?.partitions.find((p) => p.partition === e.partition);
          const at = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
          behind += Number(e.high) - at;
        }
      }
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} still ${behind} message(s) behind after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}
