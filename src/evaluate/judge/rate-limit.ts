/** Requests-per-minute limit per judge model: callers wait their turn instead of failing. */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket per model, refilled at rpm/60 000 tokens per millisecond. The bucket holds one second's worth
 * (rpm/60, at least 1): a full minute's burst at start-up would trip providers that enforce their per-minute
 * limits over shorter windows, and would not "space" calls at all. A taker may drive the level negative — that is
 * its reservation — so waiters are served in arrival order without a queue.
 */
export class RpmLimiter {
  private readonly buckets = new Map<string, { level: number; at: number }>();
  private readonly perMs: number;
  private readonly capacity: number;

  constructor(
    private readonly rpm: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = rpm / 60_000;
    this.capacity = Math.max(1, rpm / 60);
  }

  /** Resolves when a request to `model` may go; rejects with the signal's reason when aborted while waiting. */
  async acquire(model: string, signal?: AbortSignal): Promise<void> {
    if (this.rpm <= 0) return;
    signal?.throwIfAborted();
    const t = this.now();
    const b = this.buckets.get(model) ?? { level: this.capacity, at: t };
    b.level = Math.min(this.capacity, b.level + (t - b.at) * this.perMs) - 1;
    b.at = t;
    this.buckets.set(model, b);
    if (b.level >= 0) return;
    const waitMs = -b.level / this.perMs;
    try {
      await sleep(waitMs, undefined, signal ? { signal } : undefined);
    } catch (err) {
      // Give the reserved slot back so callers arriving later are not delayed by a turn nobody used.
      b.level += 1;
      throw signal?.reason ?? err;
    }
  }
}
