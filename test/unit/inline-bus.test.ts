import { describe, expect, it } from 'vitest';
import { InlineBus } from '../../src/bus/inline/bus.js';
import { countSpans, type Consumer, type IngestBatch } from '../../src/component/consumer.js';
import { PipelineError, pipelineError } from '../../src/component/errors.js';
import type { Span } from '../../src/model/otlp.js';
import { deadlineIn } from '../../src/component/component.js';

const span = (i: number): Span => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: i.toString(16).padStart(16, '0'),
  parentSpanId: '',
  traceState: '',
  name: `s${i}`,
  kind: 1,
  startTimeNs: '1',
  endTimeNs: '2',
  attributes: {},
  events: [],
  links: [],
  status: { code: 0, message: '' },
});
const batch = (n: number, from = 0): IngestBatch => ({
  spans: [{ project: 'p', resource: { attributes: {} }, scope: { name: '', version: '' }, spans: Array.from({ length: n }, (_, i) => span(from + i)) }],
  logs: [],
});

/** A downstream stage whose writes finish only when the test says so. */
class GatedConsumer implements Consumer {
  calls: IngestBatch[] = [];
  private gates: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  consume(b: IngestBatch): Promise<void> {
    this.calls.push(b);
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  release(i: number, err?: unknown): void {
    const g = this.gates[i]!;
    if (err) g.reject(err);
    else g.resolve();
  }
}

const settled = async <T>(p: Promise<T>): Promise<'pending' | 'resolved' | 'rejected'> => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setTimeout(r, 5));
  return state;
};

/** Waits for a condition (generous deadline), never for a fixed time. */
const until = async (cond: () => boolean): Promise<void> => {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('InlineBus', () => {
  it('coalesces concurrent requests into one write and acks each only after it commits', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 100, maxWaitMs: 10, maxPendingItems: 1000 });
    const acks = [bus.consume(batch(3, 0)), bus.consume(batch(4, 10)), bus.consume(batch(5, 20))];
    await new Promise((r) => setTimeout(r, 30));
    expect(down.calls).toHaveLength(1);
    expect(countSpans(down.calls[0]!)).toBe(12);
    expect(await settled(acks[0]!)).toBe('pending');
    down.release(0);
    await Promise.all(acks);
  });

  it('closes a batch at maxItems without waiting, and queues what arrives during a write', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 5, maxWaitMs: 60_000, maxPendingItems: 1000 });
    const first = bus.consume(batch(5));
    await new Promise((r) => setTimeout(r, 1));
    expect(down.calls).toHaveLength(1);
    const second = bus.consume(batch(6, 100));
    await new Promise((r) => setTimeout(r, 1));
    expect(down.calls).toHaveLength(1); // one write at a time
    down.release(0);
    await first;
    await new Promise((r) => setTimeout(r, 1));
    expect(down.calls).toHaveLength(2);
    expect(countSpans(down.calls[1]!)).toBe(6);
    down.release(1);
    await second;
  });

  it('writes what arrived during a write the moment it ends, without waiting again (group commit)', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 1000, maxWaitMs: 200, maxPendingItems: 10_000 });
    const first = bus.consume(batch(2));
    await new Promise((r) => setTimeout(r, 250));
    expect(down.calls).toHaveLength(1);
    const during = [bus.consume(batch(3, 10)), bus.consume(batch(4, 20))];
    await new Promise((r) => setTimeout(r, 5));
    down.release(0);
    await first;
    await new Promise((r) => setTimeout(r, 5));
    // Well under maxWaitMs: the waiting items were written as one batch right away.
    expect(down.calls).toHaveLength(2);
    expect(countSpans(down.calls[1]!)).toBe(7);
    down.release(1);
    await Promise.all(during);
  });

  it('fails every request of a failed write with the classified error', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 100, maxWaitMs: 1, maxPendingItems: 1000 });
    const acks = [bus.consume(batch(1)), bus.consume(batch(1, 5))];
    for (const a of acks) a.catch(() => undefined);
    await until(() => down.calls.length === 1);
    down.release(0, pipelineError('STORE_UNAVAILABLE', 'store unavailable: connection refused'));
    // The merged write failed: each request is written again on its own, and fails on its own.
    await until(() => down.calls.length === 2);
    down.release(1, pipelineError('STORE_UNAVAILABLE', 'store unavailable: connection refused'));
    await until(() => down.calls.length === 3);
    down.release(2, pipelineError('STORE_UNAVAILABLE', 'store unavailable: connection refused'));
    for (const a of acks) await expect(a).rejects.toMatchObject({ errorClass: 'retryable' });
    // An unclassified failure is retryable too: never turn an outage into a 400.
    const next = bus.consume(batch(1, 9));
    await until(() => down.calls.length === 4);
    down.release(3, new Error('boom'));
    const err = await next.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).errorClass).toBe('retryable');
  });

  it('isolates requests of a failed merged write: one bad request fails alone', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 100, maxWaitMs: 1, maxPendingItems: 1000 });
    const good = bus.consume(batch(2));
    const bad = bus.consume(batch(1, 50)).catch((e: unknown) => e);
    const alsoGood = bus.consume(batch(3, 100));
    await until(() => down.calls.length === 1);
    expect(countSpans(down.calls[0]!)).toBe(6);
    down.release(0, pipelineError('STORE_REJECTED', 'store rejected the data'));
    await until(() => down.calls.length === 2);
    expect(countSpans(down.calls[1]!)).toBe(2);
    down.release(1);
    await until(() => down.calls.length === 3);
    expect(countSpans(down.calls[2]!)).toBe(1);
    down.release(2, pipelineError('STORE_REJECTED', 'store rejected the data'));
    await until(() => down.calls.length === 4);
    down.release(3);
    await expect(good).resolves.toBeUndefined();
    expect(await bad).toMatchObject({ errorClass: 'permanent' });
    await expect(alsoGood).resolves.toBeUndefined();
  });

  it('bounds a merged write in bytes, taking whole requests (a larger one alone)', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 1000, maxBytes: 100, maxWaitMs: 60_000, maxPendingItems: 10_000 });
    const sized = (n: number, from: number, bytes: number): IngestBatch => ({ ...batch(n, from), bytes });
    const first = bus.consume(sized(1, 0, 60));
    const acks = [first, bus.consume(sized(1, 10, 60)), bus.consume(sized(1, 20, 500)), bus.consume(sized(2, 30, 30)), bus.consume(sized(1, 40, 30))];
    // 60 + 60 passes 100 bytes: the write starts with the first request alone.
    await until(() => down.calls.length === 1);
    expect(countSpans(down.calls[0]!)).toBe(1);
    down.release(0);
    await until(() => down.calls.length === 2);
    expect(countSpans(down.calls[1]!)).toBe(1);
    down.release(1);
    await until(() => down.calls.length === 3);
    expect(countSpans(down.calls[2]!)).toBe(1); // the 500-byte request, alone
    down.release(2);
    await until(() => down.calls.length === 4);
    expect(countSpans(down.calls[3]!)).toBe(3); // 30 + 30 bytes together
    down.release(3);
    await Promise.all(acks);
  });

  it('refuses as throttled when the queue is full, bounding memory', async () => {
    const down = new GatedConsumer();
    const bus = new InlineBus(down, { maxItems: 10, maxWaitMs: 60_000, maxPendingItems: 20 });
    const writing = bus.consume(batch(10)); // goes to the downstream at once
    const queued = bus.consume(batch(15, 100));
    await expect(bus.consume(batch(10, 200))).rejects.toMatchObject({ errorClass: 'throttled' });
    down.release(0);
    await writing;
    await new Promise((r) => setTimeout(r, 1));
    down.release(1);
    await queued;
  });

  it('shutdown writes what is pending, then refuses new data as retryable', async () => {
    const written: number[] = [];
    const bus = new InlineBus({ consume: async (b) => void written.push(countSpans(b)) }, { maxItems: 1000, maxWaitMs: 60_000, maxPendingItems: 10_000 });
    const pending = bus.consume(batch(7));
    await bus.shutdown(deadlineIn(10_000));
    await pending;
    expect(written).toEqual([7]);
    await expect(bus.consume(batch(1))).rejects.toMatchObject({ errorClass: 'retryable' });
    await bus.shutdown(deadlineIn(10_000)); // idempotent
  });
});
