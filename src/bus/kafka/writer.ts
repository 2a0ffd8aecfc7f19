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
import { Coalescer, type Part } from './coalescer.js';
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
  /** Message bytes per insert at most (a single larger message goes alone); also sizes the fetches. */
  batchMaxBytes?: number;
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

/** A dead letter and the partition it came from. */
interface SourcedLetter extends DeadLetter {
  topic: string;
  partition: number;
}

/** One partition's share of a write: its batch, and what to commit or dead-letter for it. */
interface PartOf {
  p: EachBatch;
  first: string | null;
  last: string | null;
  batch: IngestBatch;
  /** The messages decoded into `batch`: what goes to the dead-letter topic if the store refuses it. */
  decoded: KafkaMessage[];
  poison: DeadLetter[];
}

/** What a write retries under: still allowed to (every partition in it still ours), and a heartbeat. */
interface WriteContext {
  running: () => boolean;
  heartbeat: () => Promise<void>;
}

/** A write gave up because the consumer is stopping or lost a partition: nothing was committed. */
class Stopping extends Error {
  constructor() {
    super('the consumer stopped before the write committed');
  }
}

/**
 * Batches handed to eachBatch at once (kafkajs' workers): at least every partition of both topics, so one
 * fetch's batches meet in the coalescer. Memory stays bounded by the fetch size, not by this.
 */
const PARTITIONS_AT_ONCE = 64;

const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;

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
  private readonly batchMaxBytes: number;

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
    this.batchMaxBytes = opts.batchMaxBytes ?? DEFAULT_BATCH_BYTES;
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
      // A fetch is about two writes when catching up (the coalescer merges its partitions' batches up to
      // the write bounds; chDB's per-insert cost is high), and bounds the memory a fetch holds; small
      // batches still flow after maxWaitTimeInMs.
      maxBytesPerPartition: this.batchMaxBytes,
      maxBytes: 2 * this.batchMaxBytes,
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: NO_SELF_RESTART,
    });
  }

  private async run(consumer: KafkaConsumer): Promise<void> {
    // One per consumer: a replaced consumer's parts are never committed by its successor.
    const coalescer = new Coalescer<PartOf>((parts) => this.write(parts), {
      maxItems: this.opts.batchMaxItems,
      maxBytes: this.batchMaxBytes,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.topics.spans, this.cfg.topics.logs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition's batch of a fetch at once, so the coalescer writes them together.
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachBatch: (payload) => this.eachBatch(payload, coalescer),
    });
  }

  private signalOf(topic: string): BusSignal {
    return topic === this.cfg.topics.logs ? 'logs' : 'spans';
  }

  /**
   * Decodes a partition's batch into parts of at most the write bounds and hands each to the coalescer,
   * which writes it together with the other partitions' parts. The offsets are resolved only once the
   * write holding a part is durable and committed: a crash before that re-delivers it.
   */
  private async eachBatch(p: EachBatch, coalescer: Coalescer<PartOf>): Promise<void> {
    const { batch } = p;
    const signal = this.signalOf(batch.topic);
    const defaultProject = this.cfg.default_project[signal];
    let part = this.emptyPart(p);
    let items = 0;
    let bytes = 0;

    const submit = async (): Promise<boolean> => {
      if (part.last === null) return true;
      const done = part;
      const size = { items, bytes };
      part = this.emptyPart(p);
      items = bytes = 0;
      try {
        await coalescer.submit({ ...size, value: done });
      } catch (err) {
        if (err instanceof Stopping) return false;
        throw err;
      }
      p.resolveOffset(done.last as string);
      return true;
    };

    for (const message of batch.messages) {
      if (!p.isRunning() || p.isStale()) return;
      const codecError = message.value === null ? header(message.headers as RawHeaders, CODEC_ERROR_HEADER) : undefined;
      if (codecError !== undefined) {
        // A stand-in for a record of a batch that could not be decompressed: the run of them is one entry.
        const prev = part.poison[part.poison.length - 1];
        if (prev?.through && prev.error === codecError) prev.through = { offset: message.offset, records: prev.through.records + 1 };
        else part.poison.push({ message, error: codecError, code: 'UNDECODABLE_MESSAGE', through: { offset: message.offset, records: 1 } });
      } else {
        try {
          const decoded = decodeBusMessage(signal, message.value, message.headers as RawHeaders, defaultProject);
          for (const g of decoded.spans) part.batch.spans.push(g);
          for (const g of decoded.logs) part.batch.logs.push(g);
          items += countSpans(decoded) + countLogs(decoded);
          bytes += message.value?.length ?? 0;
          part.decoded.push(message);
        } catch (err) {
          part.poison.push({ message, error: (err as Error).message, code: 'UNDECODABLE_MESSAGE' });
        }
      }
      part.first ??= message.offset;
      part.last = message.offset;
      // Parts of a whole write: a partition catching up alone still writes full batches; the coalescer
      // fits a partition's remainder beside others' parts.
      if ((items >= this.opts.batchMaxItems || bytes >= this.batchMaxBytes) && !(await submit())) return;
    }
    if (!(await submit())) return;
    const lag = Number(batch.offsetLag());
    this.metrics.consumerLag.set({ group: this.groupId, topic: batch.topic, partition: String(batch.partition) }, Number.isFinite(lag) ? lag : 0);
  }

  private emptyPart(p: EachBatch): PartOf {
    return { p, first: null, last: null, batch: { spans: [], logs: [] }, decoded: [], poison: [] };
  }

  /**
   * One write for the parts of several partitions: one insert (a token naming every offset range), the
   * dead letters if any, then one commit of every partition's next offset. Throws `Stopping` when the
   * consumer stops first (nothing committed).
   */
  private async write(parts: readonly Part<PartOf>[]): Promise<void> {
    const values = parts.map((x) => x.value);
    const batch: IngestBatch = { spans: [], logs: [], bytes: 0 };
    for (const v of values) {
      for (const g of v.batch.spans) batch.spans.push(g);
      for (const g of v.batch.logs) batch.logs.push(g);
    }
    batch.bytes = parts.reduce((n, x) => n + x.bytes, 0);
    const token = values.map((v) => `${v.p.batch.topic}:${v.p.batch.partition}:${v.first}-${v.last}`).join(',');
    const lead = (values[0] as PartOf).p;
    const ctx: WriteContext = {
      running: () => values.every((v) => v.p.isRunning() && !v.p.isStale()),
      heartbeat: () => lead.heartbeat(),
    };
    const outcome = await this.insertWithRetry(batch, token, ctx);
    if (outcome === 'stopping') throw new Stopping();
    const poison: SourcedLetter[] = [];
    if (outcome !== 'stored') {
      const messages = values.reduce((n, v) => n + v.decoded.length, 0);
      this.log.error({ err: outcome.message, code: outcome.code, token, messages }, 'writer: the store refused a batch as invalid; dead-lettering it');
      const error = `the store refused the batch ${token}: ${outcome.message}`;
      for (const v of values) poison.push(...v.decoded.map((message) => this.letter(v, { message, error, code: outcome.code })));
    }
    for (const v of values) poison.push(...v.poison.map((d) => this.letter(v, d)));
    // Dead-lettered before anything is committed: if that fails, the partitions wait and retry.
    if (poison.length && !(await this.deadLetter(poison, ctx))) throw new Stopping();
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const v of values) {
      const list = byTopic.get(v.p.batch.topic) ?? [];
      list.push({ partition: v.p.batch.partition, offset: (BigInt(v.last as string) + 1n).toString() });
      byTopic.set(v.p.batch.topic, list);
    }
    await lead.commitOffsetsIfNecessary({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    if (outcome === 'stored') this.observer?.observe(batch);
  }

  private letter(v: PartOf, d: DeadLetter): SourcedLetter {
    return { ...d, topic: v.p.batch.topic, partition: v.p.batch.partition };
  }

  /** Waits `ms` in slices, heartbeating so the group keeps the partition; returns early when the consumer stops. */
  private heartbeatingSleep(ctx: WriteContext): Sleep {
    return async (ms) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await ctx.heartbeat().catch(() => undefined);
        if (!ctx.running()) return;
        await sleep(Math.min(1_000, until - Date.now()));
      }
    };
  }

  /**
   * Retries until the store takes the rows. 'stopping' when the consumer stops first (nothing committed);
   * the store's error when it refused the rows as invalid (no retry can change that).
   */
  private async insertWithRetry(chunk: IngestBatch, token: string, ctx: WriteContext): Promise<'stored' | 'stopping' | PipelineError> {
    if (chunk.spans.length === 0 && chunk.logs.length === 0) return 'stored';
    try {
      await retry(() => this.store.consume(chunk, token), {
        backoff: STORE_RETRY,
        // The consume edge rejects with classified errors; anything else is classified here, once.
        classify: (err) => pipelineVerdict(classifyStoreError(err)),
        running: ctx.running,
        sleep: this.heartbeatingSleep(ctx),
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
  private async deadLetter(items: readonly SourcedLetter[], ctx: WriteContext): Promise<boolean> {
    try {
      await retry(
        async () => {
          const dlq = this.dlq;
          if (!dlq) throw new Error('the dead-letter producer is closed');
          await dlq.send({
            topic: this.cfg.topics.dead_letter,
            acks: -1,
            messages: items.map(({ topic, partition, message, error, code, through }) => ({
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
          running: ctx.running,
          sleep: this.heartbeatingSleep(ctx),
          onRetry: ({ error, tries }) =>
            this.log.warn({ err: (error as Error).message, attempt: tries - 1 }, 'writer: dead-letter produce failed; retrying, nothing committed'),
        },
      );
    } catch (err) {
      if (err instanceof RetryGaveUp) return false;
      throw err;
    }
    const counts = new Map<string, { topic: string; reason: DeadLetter['code']; n: number }>();
    for (const { topic, code, through } of items) {
      const c = counts.get(`${topic}\0${code}`) ?? { topic, reason: code, n: 0 };
      c.n += through?.records ?? 1;
      counts.set(`${topic}\0${code}`, c);
    }
    for (const { topic, reason, n } of counts.values()) this.metrics.deadLettered.inc({ topic, reason }, n);
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
