import kafkajs, { type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from './config.js';
import { startupError } from '../../component/errors.js';
// Registers the snappy, lz4 and zstd codecs with kafkajs: every client this module creates reads them all.
import './codecs.js';

const { Kafka, logLevel } = kafkajs;
export type { KafkaConfig };
export type KafkaClient = InstanceType<typeof Kafka>;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

type Sasl = NonNullable<KafkaConfig['sasl']>;
/** kafkajs types each mechanism separately, so the union has to be taken apart. */
function saslOptions(s: Sasl): SASLOptions {
  const { username, password } = s;
  switch (s.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** A kafkajs client whose logs go to our JSON logger (kafkajs' INFO chatter is logged at debug). */
export function createKafka(cfg: KafkaConfig, log: Logger, role: string): KafkaClient {
  return new Kafka({
    clientId: `${cfg.client_id}-${role}`,
    brokers: [...cfg.brokers],
    ssl: cfg.ssl,
    ...(cfg.sasl ? { sasl: saslOptions(cfg.sasl) } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const level = LEVELS[entry.level] ?? 'info';
      const { message, ...rest } = entry.log;
      log[level === 'info' ? 'debug' : level]({ kafka: entry.namespace, ...rest }, `kafka: ${message}`);
    },
  });
}

export class KafkaSetupError extends startupError('KAFKA_UNREACHABLE') {
  override name = 'KafkaSetupError';
}

/**
 * Creates the bus topics when missing, with the configured partitions, retention and message size. This is
 * the first thing every Kafka role does, so an unreachable broker is reported here, in words.
 */
export async function ensureTopics(kafka: KafkaClient, cfg: KafkaConfig): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new KafkaSetupError(`cannot reach Kafka at ${cfg.brokers.join(',')} (${cause}); check bus.kafka.brokers (KAFKA_BROKERS)`);
  }
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [cfg.topics.spans, cfg.topics.logs, cfg.topics.dead_letter].filter((t) => !existing.has(t));
    if (wanted.length === 0) return [];
    await admin.createTopics({
      // Waiting is ours (below): kafkajs retries only LEADER_NOT_AVAILABLE, and a busy broker answers
      // metadata for a topic it just created with UNKNOWN_TOPIC_OR_PARTITION for a while.
      waitForLeaders: false,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: topic === cfg.topics.dead_letter ? 1 : cfg.partitions,
        replicationFactor: cfg.replication_factor,
        configEntries: [
          { name: 'retention.ms', value: String(cfg.retention_hours * 3_600_000) },
          { name: 'max.message.bytes', value: String(cfg.max_message_bytes) },
        ],
      })),
    });
    await waitForLeaders(admin, wanted);
    return wanted;
  } finally {
    await admin.disconnect();
  }
}

/** Until every partition of `topics` has a leader; a broker that takes over a minute is an error. */
async function waitForLeaders(admin: ReturnType<KafkaClient['admin']>, topics: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      // Not yet known to the broker answering: asked again below.
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline) throw new KafkaSetupError(`Kafka created the topics ${topics.join(', ')} but has no leader for all their partitions after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
