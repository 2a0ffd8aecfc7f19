import type { Logger } from 'pino';
import { pipelineError, type PipelineError } from '../../component/errors.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../../component/component.js';
import type { IngestBatch, PublishOutcome, Publisher } from '../../component/consumer.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { compressionType } from './codecs.js';
import { classifyKafkaError } from './errors.js';
import { ByteBudget } from '../../component/budget.js';
import { ENVELOPE_BYTES, KAFKA_PROJECT_HEADER, logMessages, spanMessages, type OutMessage } from './messages.js';
import { createPartitioner } from './partitioner.js';

type Producer = ReturnType<KafkaClient['producer']>;
type TopicMessages = Array<{ topic: string; messages: OutMessage[] }>;
interface Pending {
  topicMessages: TopicMessages;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The receiver side of the Kafka bus: each request becomes OTLP protobuf messages (one per trace, keyed by
 * trace id, partitioned as `bus.kafka.partitioner` says, compressed as `bus.kafka.compression` says) and resolves only when Kafka acknowledged all of them (acks=all, idempotent producer).
 * While Kafka is unreachable or slow, requests fail as retryable (503 / UNAVAILABLE) so exporters keep
 * their data; the bytes of requests still waiting on Kafka are bounded, so the process cannot balloon.
 */
export class KafkaProducerBus implements Component, Publisher, ReadyCheck {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private producer: Producer | null = null;
  /** Bytes produced and not acknowledged by Kafka: the same budget mechanism the receivers use. */
  private readonly budget: ByteBudget;
  /** Requests' messages waiting for the send in flight to finish (see enqueue). */
  private readonly queue: Pending[] = [];
  private pumping = false;

  constructor(
    private readonly cfg: KafkaConfig,
    metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.kafka = createKafka(cfg, log, 'receiver');
    this.budget = new ByteBudget(cfg.max_inflight_bytes, (used) => metrics.busInflightBytes.set(used));
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.cfg);
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: createPartitioner(this.cfg.partitioner),
    });
    await producer.connect();
    this.producer = producer;
  }

  get inflight(): number {
    return this.budget.inUse;
  }

  /** Per-trace messages the receiver built on the wire (see Publisher.spanMessages): produced as they are. */
  get spanMessages(): NonNullable<Publisher['spanMessages']> {
    return {
      limit: this.cfg.max_message_bytes - ENVELOPE_BYTES,
      publish: async (messages) => {
        const out = messages.map((m): OutMessage => ({ key: m.key || null, value: m.value, headers: { [KAFKA_PROJECT_HEADER]: m.project }, items: m.spans }));
        await this.produce([{ topic: this.cfg.topics.spans, messages: out }]);
      },
    };
  }

  async publish(batch: IngestBatch): Promise<PublishOutcome> {
    if (!this.producer) throw pipelineError('BUS_UNAVAILABLE', 'the Kafka producer is not connected');
    const spans = spanMessages(batch.spans, this.cfg.max_message_bytes);
    const logs = logMessages(batch.logs, this.cfg.max_message_bytes);
    const topicMessages: Array<{ topic: string; messages: OutMessage[] }> = [];
    if (spans.messages.length) topicMessages.push({ topic: this.cfg.topics.spans, messages: spans.messages });
    if (logs.messages.length) topicMessages.push({ topic: this.cfg.topics.logs, messages: logs.messages });
    const outcome: PublishOutcome = { rejectedSpans: spans.rejected, rejectedLogs: logs.rejected, errors: [...spans.errors, ...logs.errors] };
    if (topicMessages.length === 0) return outcome;
    await this.produce(topicMessages);
    return outcome;
  }

  /** Resolves once Kafka acknowledged every message (acks=all); bounded by max_inflight_bytes and produce_timeout_ms. */
  private async produce(topicMessages: Array<{ topic: string; messages: OutMessage[] }>): Promise<void> {
    const producer = this.producer;
    if (!producer) throw pipelineError('BUS_UNAVAILABLE', 'the Kafka producer is not connected');
    let bytes = 0;
    for (const t of topicMessages) for (const m of t.messages) bytes += m.value.length;
    const lease = this.budget.tryAcquire(bytes);
    if (!lease) {
      throw pipelineError('BUS_BEHIND', `Kafka is behind: ${this.budget.inUse} bytes are waiting for acknowledgement`, { retryAfterSeconds: 2 });
    }
    // The bytes stay counted until Kafka answers, even after this request has timed out: they are in memory.
    const send = this.enqueue(producer, topicMessages, bytes)
      .catch((err: unknown) => {
        throw classifyKafkaError(err, this.cfg.max_message_bytes);
      })
      .finally(() => lease.release());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(pipelineError('BUS_TIMEOUT', `Kafka did not acknowledge within ${this.cfg.produce_timeout_ms} ms`, { retryAfterSeconds: 5 })),
        this.cfg.produce_timeout_ms,
      );
    });
    try {
      await Promise.race([send, timeout]);
    } catch (err) {
      // Both sides of the race reject with classified errors; only Kafka's own failures are worth a log line.
      if ((err as PipelineError).code === 'BUS_UNAVAILABLE')
        this.log.warn({ err: ((err as PipelineError).cause as Error | undefined)?.message }, 'kafka produce failed');
      throw err;
    } finally {
      clearTimeout(timer);
      send.catch(() => undefined);
    }
  }

  /**
   * Group commit: the messages of requests that arrive while a send is out go together in the next one
   * (up to max_message_bytes, the most one send may carry), since the idempotent producer keeps one
   * produce request in flight per broker: one request per HTTP request left Kafka's round trip, not the
   * CPU, the bound. Each request still resolves only once all of its own messages were acknowledged.
   */
  private enqueue(producer: Producer, topicMessages: TopicMessages, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topicMessages, bytes, resolve, reject });
      if (!this.pumping) void this.pump(producer);
    });
  }

  private async pump(producer: Producer): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const taken: Pending[] = [];
        let size = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0] as Pending;
          if (taken.length > 0 && size + next.bytes > this.cfg.max_message_bytes) break;
          taken.push(next);
          size += next.bytes;
          this.queue.shift();
        }
        const merged = new Map<string, OutMessage[]>();
        for (const p of taken) {
          for (const { topic, messages } of p.topicMessages) {
            const list = merged.get(topic);
            if (list) for (const m of messages) list.push(m);
            else merged.set(topic, [...messages]);
          }
        }
        try {
          await this.sendInRequests(
            producer,
            [...merged].map(([topic, messages]) => ({ topic, messages })),
          );
          for (const p of taken) p.resolve();
        } catch (err) {
          for (const p of taken) p.reject(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * kafkajs puts every message one send holds for a partition into one record batch, and the broker
   * limits the batch (max.message.bytes), not the message. So a request's messages go out in sends of at
   * most max_message_bytes in total, whatever partitions they land on, one after another.
   */
  private async sendInRequests(producer: Producer, topicMessages: Array<{ topic: string; messages: OutMessage[] }>): Promise<void> {
    const limit = this.cfg.max_message_bytes;
    const compression = compressionType(this.cfg.compression);
    let chunk: Array<{ topic: string; messages: OutMessage[] }> = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await producer.sendBatch({ topicMessages: chunk, acks: -1, timeout: this.cfg.produce_timeout_ms, compression });
      chunk = [];
      size = 0;
    };
    for (const { topic, messages } of topicMessages) {
      for (const m of messages) {
        const bytes = m.value.length + (m.key?.length ?? 0) + 128;
        if (size + bytes > limit) await flush();
        const last = chunk[chunk.length - 1];
        if (last?.topic === topic) last.messages.push(m);
        else chunk.push({ topic, messages: [m] });
        size += bytes;
      }
    }
    await flush();
  }

  /** Kafka answers a metadata request: the readiness check. */
  async ready(): Promise<boolean> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.fetchTopicMetadata({ topics: [this.cfg.topics.spans] });
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Sends still waiting on Kafka get until the deadline; their requests were not acknowledged yet. */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      const p = this.producer;
      this.producer = null;
      if (p) await settleBy(p.disconnect(), deadline);
    });
  }
}
