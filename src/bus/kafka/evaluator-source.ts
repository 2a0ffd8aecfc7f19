import type { Logger } from 'pino';
import type { Evaluator } from '../../evaluate/evaluator.js';
import { Once, settleBy, type Component, type Deadline } from '../../component/component.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { scanBusSpanIds, type RawHeaders } from './decode-message.js';

type KafkaConsumer = ReturnType<KafkaClient['consumer']>;

export interface SpanPosition {
  partition: number;
  offset: bigint;
}

/**
 * Feeds the evaluator from the spans topic with its own consumer group (all spans of a trace share a
 * partition). Offsets are committed only up to the oldest message whose trace is still waiting or being
 * scored, so after a crash those traces are read and scored again; assessment ids derived from
 * (trace, scorer, version) make that idempotent.
 */
export class KafkaEvaluatorSource implements Component {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private consumer: KafkaConsumer | null = null;
  /** Next offset to read, per partition: what to commit when nothing there is outstanding. */
  private readonly next = new Map<number, bigint>();
  private readonly committed = new Map<number, bigint>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly evaluator: Evaluator<SpanPosition>,
    private readonly log: Logger,
  ) {
    this.kafka = createKafka(cfg, log, 'evaluator');
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.cfg);
    const consumer = this.kafka.consumer({ groupId: this.cfg.evaluator_group, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.topics.spans], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // Partitions may have moved: forget positions of partitions this member no longer owns.
      this.next.clear();
      this.committed.clear();
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          try {
            this.evaluator.observeIds(scanBusSpanIds(m.value, m.headers as RawHeaders), { partition: batch.partition, offset: BigInt(m.offset) });
          } catch {
            // Undecodable: the writer moves it to the dead-letter topic; nothing to score here.
          }
          resolveOffset(m.offset);
          this.next.set(batch.partition, BigInt(m.offset) + 1n);
        }
        await heartbeat();
      },
    });
    this.consumer = consumer;
    this.timer = setInterval(
      () => void this.commit().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'evaluator: commit failed')),
      1_000,
    );
    this.timer.unref();
  }

  /** Commits, per partition, the oldest offset still needed (or everything read when none is). */
  async commit(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    const floor = new Map<number, bigint>();
    for (const pos of this.evaluator.outstandingPositions()) {
      const cur = floor.get(pos.partition);
      if (cur === undefined || pos.offset < cur) floor.set(pos.partition, pos.offset);
    }
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [partition, next] of this.next) {
      const target = floor.get(partition) ?? next;
      if (this.committed.get(partition) === target) continue;
      offsets.push({ topic: this.cfg.topics.spans, partition, offset: target.toString() });
    }
    if (offsets.length === 0) return;
    await consumer.commitOffsets(offsets);
    for (const o of offsets) this.committed.set(o.partition, BigInt(o.offset));
  }

  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      await settleBy(
        this.commit().catch(() => undefined),
        deadline,
      );
      const c = this.consumer;
      this.consumer = null;
      if (c) await settleBy(c.disconnect(), deadline);
    });
  }
}
