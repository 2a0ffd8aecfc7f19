/**
 * The receiver's producer on librdkafka (Confluent's `@confluentinc/kafka-javascript`, `bus.kafka.client:
 * librdkafka`). kafkajs encodes record batches and computes their CRC32C in JavaScript, on the thread that
 * also accepts and decodes requests: measured, that is 63% of a receiver's CPU and what caps it at one core
 * (bench/kafka-client.bench.ts). librdkafka batches, encodes and sends on its own native threads.
 *
 * The package is optional (a native build): it is loaded only when this client is chosen, and its absence
 * is a start-up error that says how to install it.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { startupError } from '../../component/errors.js';
import type { KafkaConfig } from './config.js';
import { classifyKafkaError } from './errors.js';
import type { Sender, TopicMessages } from './sender.js';

export const LIBRDKAFKA_PACKAGE = '@confluentinc/kafka-javascript';

export class KafkaClientMissingError extends startupError('KAFKA_CLIENT_MISSING') {
  override name = 'KafkaClientMissingError';
}

/** The parts of the package's KafkaJS-compatible API used here. */
interface RdLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(): RdLogger;
  setLogLevel(level: number): void;
}
interface RdMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}
interface RdProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: RdMessage[] }): Promise<unknown>;
}
interface RdModule {
  KafkaJS: { Kafka: new (cfg: Record<string, unknown>) => { producer(cfg: Record<string, unknown>): RdProducer } };
}

/** The client package, or a start-up error that says how to install it (`name` is for tests). */
export function loadLibrdkafka(name = LIBRDKAFKA_PACKAGE): RdModule {
  const require = createRequire(import.meta.url);
  try {
    return require(name) as RdModule;
  } catch (err) {
    throw new KafkaClientMissingError(
      `bus.kafka.client is librdkafka, but ${name} cannot be loaded (${(err as Error).message.split('\n')[0]}); ` +
        `install it with \`npm install ${LIBRDKAFKA_PACKAGE}\` (where no prebuilt binary can be downloaded, ` +
        `\`CKJS_LINKING=dynamic npm install ${LIBRDKAFKA_PACKAGE}\` builds it against the system's OpenSSL and zlib), or use bus.kafka.client: kafkajs`,
      { cause: err },
    );
  }
}

/** librdkafka's log lines into ours; its INFO chatter at debug, as kafkajs' is. */
function rdLogger(log: Logger): RdLogger {
  const at =
    (level: 'error' | 'warn' | 'debug') =>
    (message: string, extra?: object): void =>
      log[level]({ kafka: 'librdkafka', ...extra }, `kafka: ${message}`);
  const logger: RdLogger = {
    error: at('error'),
    warn: at('warn'),
    info: at('debug'),
    debug: at('debug'),
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}

export class LibrdkafkaSender implements Sender {
  private constructor(
    private readonly producer: RdProducer,
    private readonly cfg: KafkaConfig,
  ) {}

  /** Loads the client and connects an idempotent, acks=all producer configured from `bus.kafka`. */
  static async start(cfg: KafkaConfig, log: Logger): Promise<LibrdkafkaSender> {
    const mod = loadLibrdkafka();
    const kafka = new mod.KafkaJS.Kafka({
      kafkaJS: {
        clientId: `${cfg.client_id}-receiver`,
        brokers: [...cfg.brokers],
        ssl: cfg.ssl,
        ...(cfg.sasl ? { sasl: { ...cfg.sasl } } : {}),
        logger: rdLogger(log),
        logLevel: 2, // WARN
      },
    });
    const producer = kafka.producer({
      kafkaJS: { idempotent: true, acks: -1, compression: cfg.compression, allowAutoTopicCreation: false },
      // librdkafka's own hashes of the key, over all partitions, match ours (partitioner.ts): `fnv1a` is
      // Sarama's NewHashPartitioner, `murmur2` the Java client's; `_random` spreads key-less messages.
      partitioner: cfg.partitioner === 'murmur2' ? 'murmur2_random' : 'fnv1a_random',
      // Sends from concurrent requests share a batch per partition, as the kafkajs sender's group commit does.
      'linger.ms': 5,
      // A delivery report, success or failure, comes by the time the request answers 503 for a timeout, so
      // the byte budget is released on time.
      'message.timeout.ms': cfg.produce_timeout_ms,
      // The topic's max.message.bytes limits a record batch: librdkafka's batches stay within it.
      'message.max.bytes': cfg.max_message_bytes,
      'batch.size': cfg.max_message_bytes,
      // The producer bus' byte budget (max_inflight_bytes) bounds what is queued here; this is only a backstop.
      'queue.buffering.max.kbytes': Math.ceil(cfg.max_inflight_bytes / 1024) + 1024,
      'queue.buffering.max.messages': 1_000_000,
    });
    await producer.connect();
    return new LibrdkafkaSender(producer, cfg);
  }

  /** librdkafka batches per partition itself: each request hands its messages over and waits for their delivery reports. */
  async send(topicMessages: TopicMessages): Promise<void> {
    try {
      await Promise.all(
        topicMessages.map(({ topic, messages }) =>
          this.producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) }),
        ),
      );
    } catch (err) {
      throw classifyKafkaError(err, this.cfg.max_message_bytes);
    }
  }

  /** Flushes what is queued (librdkafka waits for its delivery reports) and disconnects. */
  close(): Promise<void> {
    return this.producer.disconnect();
  }
}
