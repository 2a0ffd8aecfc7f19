import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import { settleBy, type Deadline } from '../../component/component.js';
import { backoffDelay, retry, type Backoff, type Sleep } from '../../component/retry.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import type { KafkaClient } from './client.js';

export type KafkaConsumer = ReturnType<KafkaClient['consumer']>;

/** Waits between restarts of a crashed consumer: growing while it keeps crashing before it fetched anything. */
export const RESTART_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

export interface SupervisorOptions {
  /** Names the consumer in logs and metrics: `writer`, `evaluator`. */
  role: string;
  groupId: string;
  /**
   * Builds a consumer (no I/O). It must keep kafkajs from restarting on its own: `retry.restartOnFailure`
   * answering false (`NO_SELF_RESTART`), so every crash comes here once.
   */
  create: () => KafkaConsumer;
  /** Connects, subscribes and runs it. */
  run: (consumer: KafkaConsumer) => Promise<void>;
  /** Called when a consumer joined its group, and when it crashed: what it owned may have moved. */
  onAssignmentLost?: () => void;
  metrics: Metrics;
  log: Logger;
  backoff?: Backoff;
  /** Waits between restarts (tests hold a restart here to watch readiness while the consumer is down). */
  sleep?: Sleep;
}

/** kafkajs' consumer retry option that leaves restarts to the supervisor. */
export const NO_SELF_RESTART = { restartOnFailure: async (): Promise<boolean> => false };

const realSleep: Sleep = (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined);

/**
 * Keeps one kafkajs consumer running. kafkajs stops a consumer for good on a crash it deems not
 * retriable (a codec it does not know, a broker that stays away past its retries), and restarts the
 * others itself without telling anyone; either way the group silently loses a member. Here every crash
 * is logged with its cause, counted (`tracehouse_consumer_crashes_total`), makes `ready()` false, and is
 * followed by a fresh consumer that rejoins the group after a backoff, until `stop`.
 */
export class ConsumerSupervisor {
  private consumer: KafkaConsumer | null = null;
  private joined = false;
  private stopped = false;
  /** Crashes since the last successful fetch: the backoff grows with them. */
  private crashes = 0;
  private restarting: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly opts: SupervisorOptions) {
    this.setUp(false);
  }

  /** The running consumer, once it joined its group; null while it is down. */
  get current(): KafkaConsumer | null {
    return this.joined ? this.consumer : null;
  }

  /** Starts the first consumer; its failure to connect or subscribe is the caller's (a start-up error). */
  start(): Promise<void> {
    return this.launch();
  }

  ready(): boolean {
    return !this.stopped && this.joined;
  }

  private setUp(up: boolean): void {
    this.joined = up;
    this.opts.metrics.consumerUp.set({ group: this.opts.groupId }, up ? 1 : 0);
  }

  private async launch(): Promise<void> {
    if (this.stopped) return;
    const c = this.opts.create();
    c.on(c.events.GROUP_JOIN, () => {
      if (this.consumer !== c) return;
      this.opts.onAssignmentLost?.();
      this.setUp(true);
    });
    c.on(c.events.FETCH, () => {
      if (this.consumer === c) this.crashes = 0;
    });
    c.on(c.events.CRASH, ({ payload }) => this.crashed(c, payload.error));
    this.consumer = c;
    try {
      await this.opts.run(c);
    } catch (err) {
      if (this.consumer === c) this.consumer = null;
      await c.disconnect().catch(() => undefined);
      throw err;
    }
    // Stopped while starting: the stop found nothing to disconnect yet.
    if (this.stopped) await c.disconnect().catch(() => undefined);
  }

  private crashed(c: KafkaConsumer, error: Error): void {
    if (this.consumer !== c || this.stopped) return;
    this.consumer = null;
    this.setUp(false);
    this.opts.onAssignmentLost?.();
    this.opts.metrics.consumerCrashes.inc({ group: this.opts.groupId });
    const cause = (error as { cause?: Error }).cause;
    this.opts.log.error(
      { err: error.message, error: error.name, cause: cause?.message, group: this.opts.groupId, crashes: this.crashes + 1 },
      `${this.opts.role}: the Kafka consumer crashed; restarting it`,
    );
    this.restarting = this.restart(c);
  }

  private async restart(old: KafkaConsumer): Promise<void> {
    const backoff = this.opts.backoff ?? RESTART_BACKOFF;
    const sleep = this.opts.sleep ?? realSleep;
    const signal = this.abort.signal;
    try {
      // kafkajs disconnected it before reporting the crash; this makes sure.
      await old.disconnect().catch(() => undefined);
      await sleep(backoffDelay(this.crashes++, undefined, backoff, Math.random), signal);
      await retry(() => this.launch(), {
        backoff,
        classify: () => ({ retryable: true }),
        signal,
        sleep,
        running: () => !this.stopped,
        onRetry: ({ error, delayMs }) =>
          this.opts.log.warn(
            { err: (error as Error).message, group: this.opts.groupId, wait_ms: Math.round(delayMs) },
            `${this.opts.role}: the Kafka consumer did not restart; retrying`,
          ),
      });
    } catch (err) {
      if (!this.stopped)
        this.opts.log.error({ err: (err as Error).message, group: this.opts.groupId }, `${this.opts.role}: restarting the Kafka consumer failed`);
    }
  }

  /** Stops restarting and disconnects the running consumer (the batch in hand finishes first), by the deadline. */
  async stop(deadline: Deadline): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('stopping'));
    this.setUp(false);
    const c = this.consumer;
    this.consumer = null;
    if (c) await settleBy(c.disconnect(), deadline);
    if (this.restarting) await settleBy(this.restarting, deadline);
  }
}
