import type { Logger } from 'pino';
import type { Evaluator } from '../../evaluate/evaluator.js';
import { Once, settleBy, type Component, type Deadline, type ReadyCheck } from '../../component/component.js';
import type { Sleep } from '../../component/retry.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { createKafka, ensureTopics, type KafkaClient, type KafkaConfig } from './client.js';
import { scanBusSpanIds, type RawHeaders } from './decode-message.js';
import { ConsumerSupervisor, NO_SELF_RESTART, type KafkaConsumer } from './supervisor.js';

export interface SpanPosition {
  partition: number;
  offset: bigint;
}

/**
 * Feeds the evaluator from the spans topic with its own consumer group (all spans of a trace share a
 * partition). Offsets are committed only up to the oldest message whose trace is still waiting or being
 * scored, so after a crash those traces are read and scored again; assessment ids derived from
 * (trace, scorer, version) make that idempotent. A crashed consumer is replaced by its supervisor, with
 * backoff, and reads on from the committed offsets; `ready()` is false until it rejoined.
 */
export class KafkaEvaluatorSource implements Component, ReadyCheck {
  private readonly stopping = new Once();
  private readonly kafka: KafkaClient;
  private readonly supervisor: ConsumerSupervisor;
  private started = false;
  /** Next offset to read, per partition: what to commit when nothing there is outstanding. */
  private readonly next = new Map<number, bigint>();
  private readonly committed = new Map<number, bigint>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly evaluator: Evaluator<SpanPosition>,
    metrics: Metrics,
    private readonly log: Logger,
    /** Waits between restarts of a crashed consumer (tests hold one to watch readiness meanwhile). */
    restartSleep?: Sleep,
  ) {
    this.kafka = createKafka(cfg, log, 'evaluator');
    this.supervisor = new ConsumerSupervisor({
      role: 'evaluator',
      groupId: cfg.evaluator_group,
      create: () => this.kafka.consumer({ groupId: cfg.evaluator_group, maxWaitTimeInMs: 250, allowAutoTopicCreation: false, retry: NO_SELF_RESTART }),
      run: (c) => this.run(c),
      // Partitions may have moved: forget positions of partitions this member no longer owns.
      onAssignmentLost: () => {
        this.next.clear();
        this.committed.clear();
      },
      metrics,
      log,
      ...(restartSleep ? { sleep: restartSleep } : {}),
    });
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.cfg);
    this.started = true;
    await this.supervisor.start();
    this.timer = setInterval(
      () => void this.commit().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'evaluator: commit failed')),
      1_000,
    );
    this.timer.unref();
  }

  private async run(consumer: KafkaConsumer): Promise<void> {
    const defaultProject = this.cfg.default_project.spans;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.topics.spans], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          let groups: ReturnType<typeof scanBusSpanIds> | null = null;
          try {
            groups = scanBusSpanIds(m.value, m.headers as RawHeaders, defaultProject);
          } catch {
            // Undecodable (or the stand-in of a batch no codec could read): the writer moves it to the
            // dead-letter topic; nothing to score here.
          }
          if (groups) this.evaluator.observeIds(groups, { partition: batch.partition, offset: BigInt(m.offset) });
          resolveOffset(m.offset);
          this.next.set(batch.partition, BigInt(m.offset) + 1n);
        }
        await heartbeat();
      },
    });
  }

  /** The consumer is joined and consuming: false from a crash until it rejoined. */
  async ready(): Promise<boolean> {
    return this.started && this.supervisor.ready();
  }

  /** Commits, per partition, the oldest offset still needed (or everything read when none is). */
  async commit(): Promise<void> {
    const consumer = this.supervisor.current;
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
      this.started = false;
      await this.supervisor.stop(deadline);
    });
  }
}
