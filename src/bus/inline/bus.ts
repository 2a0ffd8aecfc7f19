import { PipelineError, pipelineError } from '../../component/errors.js';
import { Once, settleBy, type Component, type Deadline, type Factory } from '../../component/component.js';
import { FanOut, type BatchObserver } from '../../component/fan-out.js';
import { countLogs, countSpans, NOTHING_REJECTED, type Consumer, type IngestBatch, type PublishOutcome, type Publisher } from '../../component/consumer.js';

export interface InlineBusOptions {
  /** A write takes at most this many items (spans + log records); more start it at once. */
  maxItems: number;
  /** A merged write takes requests of at most this many bytes (`IngestBatch.bytes`) in total. */
  maxBytes?: number;
  /** How long an idle writer waits for more items before writing (0: the next tick). */
  maxWaitMs: number;
  /** Items waiting for a write beyond which new requests are refused as throttled. */
  maxPendingItems: number;
}

/** One request waiting for a write: its batch, its size and its caller. */
interface Entry {
  batch: IngestBatch;
  items: number;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const asPipelineError = (err: unknown): PipelineError =>
  err instanceof PipelineError ? err : pipelineError('WRITE_FAILED', `write failed: ${String(err)}`, { cause: err });

/**
 * The in-process bus: coalesces concurrent requests into one write and resolves each request's promise
 * only when the write holding its data has committed. So a receiver can ack after the write without
 * one insert per request. One write runs at a time (chDB executes statements serially anyway); items
 * arriving meanwhile form the next batch. A write takes whole requests up to `maxItems` and `maxBytes`
 * (a single request larger than either goes alone), and when a merged write fails, each of its requests
 * is written again on its own, so one request's bad data or size never fails another's.
 */
export class InlineBus implements Component, Consumer, Publisher {
  private readonly stopping = new Once();
  private queue: Entry[] = [];
  private pendingItems = 0;
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
    this.pendingItems += items;
    const done = new Promise<void>((resolve, reject) => this.queue.push({ batch, items, bytes: batch.bytes ?? 0, resolve, reject }));
    // Group commit: an idle writer starts after at most maxWaitMs; while a write runs, items gather and
    // go in the moment it finishes. Batches grow with the load instead of with a fixed delay.
    if (this.pendingItems >= this.opts.maxItems || this.queuedBytes() >= (this.opts.maxBytes ?? Number.POSITIVE_INFINITY)) this.kick();
    else if (!this.writing && !this.timer) this.timer = setTimeout(() => this.kick(), this.opts.maxWaitMs);
    return done;
  }

  private queuedBytes(): number {
    let n = 0;
    for (const e of this.queue) n += e.bytes;
    return n;
  }

  /** The next write: whole requests from the head of the queue, within maxItems and maxBytes. */
  private take(): Entry[] {
    const maxBytes = this.opts.maxBytes ?? Number.POSITIVE_INFINITY;
    let items = 0;
    let bytes = 0;
    let n = 0;
    for (const e of this.queue) {
      if (n > 0 && (items + e.items > this.opts.maxItems || bytes + e.bytes > maxBytes)) break;
      items += e.items;
      bytes += e.bytes;
      n++;
    }
    const taken = this.queue.splice(0, n);
    this.pendingItems -= items;
    return taken;
  }

  /** Starts a write of what is pending unless one is running; the running one re-kicks when done. */
  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.queue.length === 0) return;
    const entries = this.take();
    this.writing = this.write(entries).finally(() => {
      this.writing = null;
      // What arrived during the write has waited long enough already.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async write(entries: Entry[]): Promise<void> {
    const only = entries.length === 1 ? entries[0] : undefined;
    if (only) {
      await this.downstream.consume(only.batch).then(only.resolve, (err: unknown) => only.reject(asPipelineError(err)));
      return;
    }
    const merged: IngestBatch = { spans: [], logs: [], bytes: 0 };
    for (const e of entries) {
      merged.spans.push(...e.batch.spans);
      merged.logs.push(...e.batch.logs);
    }
    try {
      await this.downstream.consume(merged);
      for (const e of entries) e.resolve();
      return;
    } catch {
      // Which request made it fail is unknown: each one is written on its own and gets its own answer.
      // (A request's groups are shared with the merged batch, which nobody holds any more.)
    }
    for (const e of entries) {
      await this.downstream.consume(e.batch).then(e.resolve, (err: unknown) => e.reject(asPipelineError(err)));
    }
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
        while (this.writing || this.queue.length > 0) {
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
