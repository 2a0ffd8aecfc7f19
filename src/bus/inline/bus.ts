import { PipelineError, pipelineError } from '../../component/errors.js';
import { Once, settleBy, type Component, type Deadline, type Factory } from '../../component/component.js';
import { FanOut, type BatchObserver } from '../../component/fan-out.js';
import { countLogs, countSpans, NOTHING_REJECTED, type Consumer, type IngestBatch, type PublishOutcome, type Publisher } from '../../component/consumer.js';

export interface InlineBusOptions {
  /** A write takes at most this many items (spans + log records); more start it at once. */
  maxItems: number;
  /** How long an idle writer waits for more items before writing (0: the next tick). */
  maxWaitMs: number;
  /** Items waiting for a write beyond which new requests are refused as throttled. */
  maxPendingItems: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The in-process bus: coalesces concurrent requests into one write and resolves each request's promise
 * only when the write holding its data has committed. So a receiver can ack after the write without
 * one insert per request. One write runs at a time (chDB executes statements serially anyway); items
 * arriving meanwhile form the next batch.
 */
export class InlineBus implements Component, Consumer, Publisher {
  private readonly stopping = new Once();
  private pending: IngestBatch = { spans: [], logs: [] };
  private pendingItems = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly downstream: Consumer,
    private readonly opts: InlineBusOptions,
  ) {}

  async publish(batch: IngestBatch): Promise<PublishOutcome> {
    await this.consume(batch);
    return NOTHING_REJECTED;
  }

  consume(batch: IngestBatch): Promise<void> {
    if (this.closed) return Promise.reject(pipelineError('SHUTTING_DOWN', 'shutting down'));
    const items = countSpans(batch) + countLogs(batch);
    if (items === 0) return Promise.resolve();
    if (this.pendingItems > 0 && this.pendingItems + items > this.opts.maxPendingItems) {
      return Promise.reject(pipelineError('QUEUE_FULL', `write queue full (${this.pendingItems} items waiting)`));
    }
    this.pending.spans.push(...batch.spans);
    this.pending.logs.push(...batch.logs);
    this.pendingItems += items;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // Group commit: an idle writer starts after at most maxWaitMs; while a write runs, items gather and
    // go in the moment it finishes. Batches grow with the load instead of with a fixed delay.
    if (this.pendingItems >= this.opts.maxItems) this.kick();
    else if (!this.writing && !this.timer) this.timer = setTimeout(() => this.kick(), this.opts.maxWaitMs);
    return done;
  }

  /** Starts a write of what is pending unless one is running; the running one re-kicks when done. */
  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.pendingItems === 0) return;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = { spans: [], logs: [] };
    this.pendingItems = 0;
    this.waiters = [];
    this.writing = this.downstream
      .consume(batch)
      .then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (err: unknown) => {
          const e = err instanceof PipelineError ? err : pipelineError('WRITE_FAILED', `write failed: ${String(err)}`, { cause: err });
          for (const w of waiters) w.reject(e);
        },
      )
      .finally(() => {
        this.writing = null;
        // What arrived during the write has waited long enough already.
        if (this.pendingItems > 0) this.kick();
      });
  }

  async start(): Promise<void> {
    // Nothing to open: the bus lives in memory and its downstream was started before it.
  }

  /**
   * Stops accepting, writes what is pending and waits for it until the deadline. Requests still waiting
   * then were never answered with success, so their exporters retry: nothing acknowledged is lost.
   */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      this.closed = true;
      const drain = async (): Promise<void> => {
        while (this.writing || this.pendingItems > 0) {
          this.kick();
          await this.writing;
        }
      };
      await settleBy(drain(), deadline);
    });
  }
}

/** The inline bus writes each batch to the store writer, then shows it to the observers (the evaluator). */
export const inlineBusFactory: Factory<InlineBusOptions, { writer: Consumer; observers: readonly BatchObserver[] }, InlineBus> = {
  type: 'inline-bus',
  create: (opts, { writer, observers }) => new InlineBus(observers.length ? new FanOut(writer, observers) : writer, opts),
};
