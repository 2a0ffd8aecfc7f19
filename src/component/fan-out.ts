import type { Consumer, IngestBatch } from './consumer.js';

/** Sees batches after they are durable; must not modify them and must not block (it only records). */
export interface BatchObserver {
  observe(batch: IngestBatch): void;
}

/** Writes a batch downstream, then shows it to observers (the evaluator on the inline bus). */
export class FanOut implements Consumer {
  constructor(
    private readonly primary: Consumer,
    private readonly observers: readonly BatchObserver[],
  ) {}

  async consume(batch: IngestBatch): Promise<void> {
    await this.primary.consume(batch);
    for (const o of this.observers) o.observe(batch);
  }
}
