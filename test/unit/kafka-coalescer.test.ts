import { describe, expect, it } from 'vitest';
import { Coalescer, type Part } from '../../src/bus/kafka/coalescer.js';

/** A deferral stepped by hand: nothing is written until the test says so. */
function manual(): { defer: (fn: () => void) => void; step: () => void; queued: () => number } {
  const q: Array<() => void> = [];
  return { defer: (fn) => void q.push(fn), step: () => q.shift()?.(), queued: () => q.length };
}

const part = (name: string, items: number, bytes = items * 10): Part<string> => ({ items, bytes, value: name });

/** Lets the microtasks of a finished write run (settling callers, starting the next deferral). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('Coalescer (the Kafka writer joins partitions into one write)', () => {
  it('writes every part submitted in one turn as one write, and settles each only after it', async () => {
    const clock = manual();
    const writes: string[][] = [];
    let finish: () => void = () => undefined;
    const c = new Coalescer<string>(
      (parts) => {
        writes.push(parts.map((p) => p.value));
        return new Promise<void>((r) => {
          finish = r;
        });
      },
      { maxItems: 100, maxBytes: 10_000 },
      clock.defer,
    );
    const settled: string[] = [];
    for (const name of ['p0', 'p1', 'p2']) void c.submit(part(name, 10)).then(() => settled.push(name));
    expect(writes).toEqual([]);
    clock.step();
    expect(writes).toEqual([['p0', 'p1', 'p2']]);
    await settle();
    expect(settled).toEqual([]); // not durable yet: no caller may resolve or commit its offsets
    finish();
    await settle();
    expect(settled).toEqual(['p0', 'p1', 'p2']);
  });

  it('parts submitted while a write runs join the next one, within the item and byte bounds', async () => {
    const clock = manual();
    const writes: string[][] = [];
    const done: Array<() => void> = [];
    const c = new Coalescer<string>(
      (parts) => {
        writes.push(parts.map((p) => p.value));
        return new Promise<void>((r) => void done.push(r));
      },
      { maxItems: 25, maxBytes: 1_000 },
      clock.defer,
    );
    void c.submit(part('a', 10));
    clock.step();
    // While `a` is written: b, c fit together (20 items); d would pass 25 items; e alone passes the bytes.
    for (const p of [part('b', 10), part('c', 10), part('d', 10), part('e', 1, 5_000)]) void c.submit(p);
    expect(clock.queued()).toBe(0); // nothing starts while a write runs
    done.shift()?.();
    await settle();
    clock.step();
    expect(writes).toEqual([['a'], ['b', 'c']]);
    done.shift()?.();
    await settle();
    clock.step();
    expect(writes.at(-1)).toEqual(['d']);
    done.shift()?.();
    await settle();
    clock.step();
    expect(writes.at(-1)).toEqual(['e']); // larger than the byte bound: goes alone, not refused
    done.shift()?.();
    await settle();
    expect(c.waiting).toBe(0);
  });

  it('a later part that fits joins the write an earlier large one did not fit into (first fit)', async () => {
    const clock = manual();
    const writes: string[][] = [];
    const c = new Coalescer<string>(
      async (parts) => {
        writes.push(parts.map((p) => p.value));
      },
      { maxItems: 10, maxBytes: 10_000 },
      clock.defer,
    );
    // p1 does not fit beside the rest of p0 (11 items), p2 does (10): p1 waits for the next write.
    const all = [part('rest-of-p0', 2), part('p1', 9), part('p2', 8)].map((p) => c.submit(p));
    clock.step();
    await settle();
    clock.step();
    await Promise.all(all);
    expect(writes).toEqual([['rest-of-p0', 'p2'], ['p1']]);
  });

  it('rejects every part of a failed write with its error, and goes on with the next parts', async () => {
    const clock = manual();
    let calls = 0;
    const c = new Coalescer<string>(
      async () => {
        calls++;
        if (calls === 1) throw new Error('store down');
      },
      { maxItems: 100, maxBytes: 10_000 },
      clock.defer,
    );
    const first = [c.submit(part('x', 1)), c.submit(part('y', 1))];
    clock.step();
    const results = await Promise.allSettled(first);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('store down'));
    const later = c.submit(part('z', 1));
    await settle();
    clock.step();
    await expect(later).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
