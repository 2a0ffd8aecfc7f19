import type { Logger } from 'pino';
import { classifyStoreError, errorCode, type PipelineError, type PipelineErrorCode } from '../../component/errors.js';
import { pipelineVerdict, retry, RetryGaveUp, type Backoff, type Sleep } from '../../component/retry.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../../component/component.js';
import { countLogs, countSpans, type IngestBatch } from '../../component/consumer.js';
import type { BatchObserver } from '../../component/fan-out.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { CODEC_ERROR_HEADER } from './codecs.js';
import { decodeBusMessage, header, type RawHeaders, type BusSignal } from './decode-message.js';
import { ConsumerSupervisor, NO_SELF_RESTART, type KafkaConsumer } from './supervisor.js';

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
  /** Waits between restarts of a crashed consumer (tests hold one to watch readiness meanwhile). */
  restartSleep?: Sleep;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** While the store or the dead-letter topic is unavailable the writer waits this long between tries. */
const STORE_RETRY: Backoff = { baseMs: 250, maxMs: 30_000 };

/** A message that goes to the dead-letter topic instead of the store, and why. */
interface DeadLetter {
  message: KafkaMessage;
  error: string;
  code: PipelineErrorCode;
  /**
   * For the stand-ins of a batch that could not be decompressed (see `codecs.ts`): the last offset of the
   * range this one entry stands for, and how many records it held. One dead-letter message says it all.
   */
  through?: { offset: string; records: number };
}

/**
 * The write side of the Kafka bus: a consumer group that decodes, normalizes and inserts, committing
 * offsets only after ClickHouse accepted the rows. Each insert carries a deduplication token made of
 * topic, partition and offset range, so a batch re-delivered after a crash is not stored twice; rows
 * re-sent by clients fold at query time. While the store is down it retries with backoff (heartbeating,
 * committing nothing). A message that can never be decoded, and a batch the store refuses as invalid, go
 * to the dead-letter topic with the reason in a header, and only then is the partition moved on: nothing
 * acknowledged is dropped in silence. So does a record batch no codec can decompress, as one message
 * naming its offset range. A crashed consumer is replaced by its supervisor, with backoff; `ready()` is
 * false until the new one joined.
 */
export class KafkaWriter implements Component, ReadyCheck {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private readonly supervisor: ConsumerSupervisor;
  private started = false;
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
    this.supervisor = new ConsumerSupervisor({
      role: 'writer',
      groupId,
      create: () => this.createConsumer(),
      run: (c) => this.run(c),
      metrics,
      log,
      ...(opts.restartSleep ? { sleep: opts.restartSleep } : {}),
    });
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.cfg);
    this.dlq = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.dlq.connect();
    this.started = true;
    await this.supervisor.start();
  }

  private createConsumer(): KafkaConsumer {
    return this.kafka.consumer({
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
      retry: NO_SELF_RESTART,
    });
  }

  private async run(consumer: KafkaConsumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.topics.spans, this.cfg.topics.logs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private signalOf(topic: string): BusSignal {
    return topic === this.cfg.topics.logs ? 'logs' : 'spans';
  }

  private async eachBatch(p: EachBatch): Promise<void> {
    const { batch } = p;
    const signal = this.signalOf(batch.topic);
    const defaultProject = this.cfg.default_project[signal];
    let chunk: IngestBatch = { spans: [], logs: [] };
    let items = 0;
    let first: string | null = null;
    let last: string | null = null;
    /** The messages decoded into `chunk`: what goes to the dead-letter topic if the store refuses it. */
    let decoded: KafkaMessage[] = [];
    const poison: DeadLetter[] = [];

    const flush = async (): Promise<boolean> => {
      if (last === null || first === null) return true;
      const token = `${batch.topic}:${batch.partition}:${first}-${last}`;
      const outcome = await this.insertWithRetry(chunk, token, p);
      if (outcome === 'stopping') return false;
      if (outcome !== 'stored') {
        this.log.error(
          { err: outcome.message, code: outcome.code, token, messages: decoded.length },
          'writer: the store refused a batch as invalid; dead-lettering it',
        );
        const error = `the store refused the batch ${token}: ${outcome.message}`;
        poison.push(...decoded.map((message) => ({ message, error, code: outcome.code })));
      }
      // Dead-lettered before anything is committed: if that fails, the partition waits and retries.
      if (poison.length && !(await this.deadLetter(batch.topic, batch.partition, poison, p))) return false;
      poison.length = 0;
      p.resolveOffset(last);
      await p.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
      if (outcome === 'stored') this.observer?.observe(chunk);
      chunk = { spans: [], logs: [] };
      items = 0;
      decoded = [];
      first = last = null;
      return true;
    };

    for (const message of batch.messages) {
      if (!p.isRunning() || p.isStale()) return;
      const codecError = message.value === null ? header(message.headers as RawHeaders, CODEC_ERROR_HEADER) : undefined;
      if (codecError !== undefined) {
        // A stand-in for a record of a batch that could not be decompressed: the run of them is one entry.
        const prev = poison[poison.length - 1];
        if (prev?.through && prev.error === codecError) prev.through = { offset: message.offset, records: prev.through.records + 1 };
        else poison.push({ message, error: codecError, code: 'UNDECODABLE_MESSAGE', through: { offset: message.offset, records: 1 } });
      } else {
        try {
          const part = decodeBusMessage(signal, message.value, message.headers as RawHeaders, defaultProject);
          chunk.spans.push(...part.spans);
          chunk.logs.push(...part.logs);
          items += countSpans(part) + countLogs(part);
          decoded.push(message);
        } catch (err) {
          poison.push({ message, error: (err as Error).message, code: 'UNDECODABLE_MESSAGE' });
        }
      }
      first ??= message.offset;
      last = message.offset;
      if (items >= this.opts.batchMaxItems && !(await flush())) return;
    }
    if (!(await flush())) return;
    const lag = Number(batch.offsetLag());
    this.metrics.consumerLag.set({ group: this.groupId, topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }

  /** Waits `ms` in slices, heartbeating so the group keeps the partition; returns early when the consumer stops. */
  private heartbeatingSleep(p: EachBatch): Sleep {
    return async (ms) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await p.heartbeat().catch(() => undefined);
        if (!p.isRunning()) return;
        await sleep(Math.min(1_000, until - Date.now()));
      }
    };
  }

  /**
   * Retries until the store takes the rows. 'stopping' when the consumer stops first (nothing committed);
   * the store's error when it refused the rows as invalid (no retry can change that).
   */
  private async insertWithRetry(chunk: IngestBatch, token: string, p: EachBatch): Promise<'stored' | 'stopping' | PipelineError> {
    if (chunk.spans.length === 0 && chunk.logs.length === 0) return 'stored';
    try {
      await retry(() => this.store.consume(chunk, token), {
        backoff: STORE_RETRY,
        // The consume edge rejects with classified errors; anything else is classified here, once.
        classify: (err) => pipelineVerdict(classifyStoreError(err)),
        running: () => p.isRunning() && !p.isStale(),
        sleep: this.heartbeatingSleep(p),
        onRetry: ({ error, tries, delayMs }) =>
          this.log.warn(
            { err: (error as Error).message, code: errorCode(classifyStoreError(error)), attempt: tries - 1, wait_ms: Math.round(delayMs) },
            'writer: store unavailable; retrying',
          ),
      });
      return 'stored';
    } catch (err) {
      if (err instanceof RetryGaveUp && err.reason === 'permanent') return classifyStoreError(err.error);
      if (err instanceof RetryGaveUp) return 'stopping';
      throw err;
    }
  }

  /** Produces `items` to the dead-letter topic, retrying while it fails; false when the consumer stops first. */
  private async deadLetter(topic: string, partition: number, items: readonly DeadLetter[], p: EachBatch): Promise<boolean> {
    try {
      await retry(
        async () => {
          const dlq = this.dlq;
          if (!dlq) throw new Error('the dead-letter producer is closed');
          await dlq.send({
            topic: this.cfg.topics.dead_letter,
            acks: -1,
            messages: items.map(({ message, error, code, through }) => ({
              key: message.key,
              value: message.value,
              headers: {
                // A stand-in's only header is the reason, which tracehouse-error carries.
                ...(through ? {} : (message.headers as Record<string, Buffer | string>)),
                'tracehouse-error': error.slice(0, 1000),
                'tracehouse-error-code': code,
                'tracehouse-source': `${topic}/${partition}/${message.offset}${through ? `-${through.offset}` : ''}`,
              },
            })),
          });
        },
        {
          backoff: STORE_RETRY,
          classify: () => ({ retryable: true }),
          running: () => p.isRunning() && !p.isStale(),
          sleep: this.heartbeatingSleep(p),
          onRetry: ({ error, tries }) =>
            this.log.warn({ err: (error as Error).message, attempt: tries - 1 }, 'writer: dead-letter produce failed; retrying, nothing committed'),
        },
      );
    } catch (err) {
      if (err instanceof RetryGaveUp) return false;
      throw err;
    }
    const counts = new Map<DeadLetter['code'], number>();
    for (const { code, through } of items) counts.set(code, (counts.get(code) ?? 0) + (through?.records ?? 1));
    for (const [reason, n] of counts) this.metrics.deadLettered.inc({ topic, reason }, n);
    this.log.warn({ count: items.length, first_error: items[0]?.error, code: items[0]?.code }, 'writer: messages moved to the dead-letter topic');
    return true;
  }

  /** The consumer is joined and consuming: false from a crash until it rejoined. */
  async ready(): Promise<boolean> {
    return this.started && this.supervisor.ready();
  }

  /** Stops fetching; the batch being inserted finishes and commits first (kafkajs waits for it). */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      this.started = false;
      await this.supervisor.stop(deadline);
      const d = this.dlq;
      this.dlq = null;
      if (d) await settleBy(d.disconnect(), deadline);
    });
  }
}
