import type { Logger } from 'pino';
import { PipelineError, classifyStoreError } from '../../component/errors.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../../component/component.js';
import { countLogs, countSpans, type IngestBatch } from '../../component/consumer.js';
import type { BatchObserver } from '../../component/fan-out.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { decodeBusMessage, type RawHeaders, type BusSignal } from './decode-message.js';

type KafkaConsumer = ReturnType<KafkaClient['consumer']>;
type Producer = ReturnType<KafkaClient['producer']>;
type EachBatch = Parameters<NonNullable<Parameters<KafkaConsumer['run']>[0]>['eachBatch'] & {}>[0];
type KafkaMessage = EachBatch['batch']['messages'][number];

/** Where decoded batches go: the store writer (a deduplication token per offset range). */
export interface BatchSink {
  consume(batch: IngestBatch, dedupToken: string): Promise<void>;
}

export interface KafkaWriterOptions {
  /** Spans (plus log records) per insert at most. */
  batchMaxItems: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The write side of the Kafka bus: a consumer group that decodes, normalizes and inserts, committing
 * offsets only after ClickHouse accepted the rows. Each insert carries a deduplication token made of
 * topic, partition and offset range, so a batch re-delivered after a crash is not stored twice; rows
 * re-sent by clients fold at query time. While the store is down it retries with backoff (heartbeating,
 * committing nothing); a message that can never be decoded goes to the dead-letter topic with the error
 * in a header, and the partition moves on.
 */
export class KafkaWriter implements Component, ReadyCheck {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private consumer: KafkaConsumer | null = null;
  private dlq: Producer | null = null;

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly store: BatchSink,
    private readonly opts: KafkaWriterOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly groupId: string = cfg.writer_group,
    /** Sees each batch after it is durable (unused by the writer role; tests use it). */
    private readonly observer?: BatchObserver,
  ) {
    this.kafka = createKafka(cfg, log, 'writer');
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.cfg);
    this.dlq = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.dlq.connect();
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      // One partition's fetch is one insert when catching up: big enough for ~10k-span inserts (chDB's
      // per-insert cost is high), small enough to bound memory; small batches still flow after
      // maxWaitTimeInMs.
      maxBytesPerPartition: 16 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.topics.spans, this.cfg.topics.logs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.consumer = consumer;
  }

  private signalOf(topic: string): BusSignal {
    return topic === this.cfg.topics.logs ? 'logs' : 'spans';
  }

  private async eachBatch(p: EachBatch): Promise<void> {
    const { batch } = p;
    const signal = this.signalOf(batch.topic);
    let chunk: IngestBatch = { spans: [], logs: [] };
    let items = 0;
    let first: string | null = null;
    let last: string | null = null;
    const poison: Array<{ message: KafkaMessage; error: string }> = [];

    const flush = async (): Promise<boolean> => {
      if (last === null || first === null) return true;
      const token = `${batch.topic}:${batch.partition}:${first}-${last}`;
      if (!(await this.insertWithRetry(chunk, token, p))) return false;
      if (poison.length && !(await this.deadLetter(batch.topic, batch.partition, poison.splice(0)))) return false;
      p.resolveOffset(last);
      await p.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] });
      this.observer?.observe(chunk);
      chunk = { spans: [], logs: [] };
      items = 0;
      first = last = null;
      return true;
    };

    for (const message of batch.messages) {
      if (!p.isRunning() || p.isStale()) return;
      try {
        const decoded = decodeBusMessage(signal, message.value, message.headers as RawHeaders);
        chunk.spans.push(...decoded.spans);
        chunk.logs.push(...decoded.logs);
        items += countSpans(decoded) + countLogs(decoded);
      } catch (err) {
        poison.push({ message, error: (err as Error).message });
      }
      first ??= message.offset;
      last = message.offset;
      if (items >= this.opts.batchMaxItems && !(await flush())) return;
    }
    if (!(await flush())) return;
    const lag = Number(batch.offsetLag());
    this.metrics.consumerLag.set({ group: this.groupId, topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }

  /** Retries until the store takes the rows; false when the consumer is stopping (nothing committed). */
  private async insertWithRetry(chunk: IngestBatch, token: string, p: EachBatch): Promise<boolean> {
    if (chunk.spans.length === 0 && chunk.logs.length === 0) return true;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.consume(chunk, token);
        return true;
      } catch (err) {
        const e = err instanceof PipelineError ? err : classifyStoreError(err);
        if (e.errorClass === 'permanent') {
          // Our own rows were refused: nothing retrying can change. Keep the partition moving, loudly.
          this.log.error({ err: e.message, token }, 'writer: the store refused a batch as invalid; skipping it');
          return true;
        }
        if (!p.isRunning() || p.isStale()) return false;
        const wait = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.log.warn({ err: e.message, attempt, wait_ms: wait }, 'writer: store unavailable; retrying');
        const until = Date.now() + wait;
        while (Date.now() < until) {
          await p.heartbeat().catch(() => undefined);
          if (!p.isRunning()) return false;
          await sleep(Math.min(1_000, until - Date.now()));
        }
      }
    }
  }

  private async deadLetter(topic: string, partition: number, items: Array<{ message: KafkaMessage; error: string }>): Promise<boolean> {
    try {
      await this.dlq?.send({
        topic: this.cfg.topics.dead_letter,
        acks: -1,
        messages: items.map(({ message, error }) => ({
          key: message.key,
          value: message.value,
          headers: {
            ...(message.headers as Record<string, Buffer | string>),
            'tracehouse-error': error.slice(0, 1000),
            'tracehouse-source': `${topic}/${partition}/${message.offset}`,
          },
        })),
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'writer: dead-letter produce failed; will retry the batch');
      return false;
    }
    this.metrics.deadLettered.inc({ topic }, items.length);
    this.log.warn({ count: items.length, first_error: items[0]?.error }, 'writer: undecodable messages moved to the dead-letter topic');
    return true;
  }

  async ready(): Promise<boolean> {
    return this.consumer !== null;
  }

  /** Stops fetching; the batch being inserted finishes and commits first (kafkajs waits for it). */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      const c = this.consumer;
      this.consumer = null;
      if (c) await settleBy(c.disconnect(), deadline);
      const d = this.dlq;
      this.dlq = null;
      if (d) await settleBy(d.disconnect(), deadline);
    });
  }
}
