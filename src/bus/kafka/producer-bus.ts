import type { Logger } from 'pino';
import { pipelineError, type PipelineError } from '../../component/errors.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../../component/component.js';
import type { IngestBatch, PublishOutcome, Publisher } from '../../component/consumer.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { classifyKafkaError } from './errors.js';
import { ByteBudget } from '../../component/budget.js';
import { ENVELOPE_BYTES, KAFKA_PROJECT_HEADER, logMessages, spanMessages, type OutMessage } from './messages.js';
import { KafkaSender, receiverProducer, type Sender, type TopicMessages } from './sender.js';
import { producerThreadAvailable, ThreadSender } from './producer-thread.js';
import { LibrdkafkaSender } from './librdkafka-sender.js';
/**
 * The receiver side of the Kafka bus: each request becomes OTLP protobuf messages (one per trace, keyed by
 * trace id, partitioned as `bus.kafka.partitioner` says, compressed as `bus.kafka.compression` says) and resolves only when Kafka acknowledged all of them (acks=all, idempotent producer).
 * While Kafka is unreachable or slow, requests fail as retryable (503 / UNAVAILABLE) so exporters keep
 * their data; the bytes of requests still waiting on Kafka are bounded, so the process cannot balloon.
 */
export class KafkaProducerBus implements Component, Publisher, ReadyCheck {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private sender: Sender | null = null;
  /** Bytes produced and not acknowledged by Kafka: the same budget mechanism the receivers use. */
  private readonly budget: ByteBudget;

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
    if (this.cfg.client === 'librdkafka') {
      this.sender = await LibrdkafkaSender.start(this.cfg, this.log);
      return;
    }
    if (this.cfg.producer_thread && producerThreadAvailable()) {
      this.sender = await ThreadSender.start(this.cfg, this.log);
      return;
    }
    const producer = receiverProducer(this.kafka, this.cfg);
    await producer.connect();
    this.sender = new KafkaSender(producer, this.cfg);
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
    if (!this.sender) throw pipelineError('BUS_UNAVAILABLE', 'the Kafka producer is not connected');
    const spans = spanMessages(batch.spans, this.cfg.max_message_bytes);
    const logs = logMessages(batch.logs, this.cfg.max_message_bytes);
    const topicMessages: TopicMessages = [];
    if (spans.messages.length) topicMessages.push({ topic: this.cfg.topics.spans, messages: spans.messages });
    if (logs.messages.length) topicMessages.push({ topic: this.cfg.topics.logs, messages: logs.messages });
    const outcome: PublishOutcome = { rejectedSpans: spans.rejected, rejectedLogs: logs.rejected, errors: [...spans.errors, ...logs.errors] };
    if (topicMessages.length === 0) return outcome;
    await this.produce(topicMessages);
    return outcome;
  }

  /** Resolves once Kafka acknowledged every message (acks=all); bounded by max_inflight_bytes and produce_timeout_ms. */
  private async produce(topicMessages: TopicMessages): Promise<void> {
    const sender = this.sender;
    if (!sender) throw pipelineError('BUS_UNAVAILABLE', 'the Kafka producer is not connected');
    let bytes = 0;
    for (const t of topicMessages) for (const m of t.messages) bytes += m.value.length;
    const lease = this.budget.tryAcquire(bytes);
    if (!lease) {
      throw pipelineError('BUS_BEHIND', `Kafka is behind: ${this.budget.inUse} bytes are waiting for acknowledgement`, { retryAfterSeconds: 2 });
    }
    // The bytes stay counted until Kafka answers, even after this request has timed out: they are in memory.
    const send = sender
      .send(topicMessages, bytes)
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
      const s = this.sender;
      this.sender = null;
      if (s) await settleBy(s.close(), deadline);
      if (s instanceof ThreadSender) await s.terminate();
    });
  }
}
