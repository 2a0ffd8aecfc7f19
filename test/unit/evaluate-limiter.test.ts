import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/evaluate/limiter.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('evaluator concurrency limit', () => {
  it('runs at most `limit` tasks at once, the rest in arrival order', async () => {
    const l = new Limiter(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        l.run(async () => {
          order.push(i);
          peak = Math.max(peak, ++running);
          await tick(5 + (i % 3) * 3);
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(l.running).toBe(0);
    expect(l.waiting).toBe(0);
  });

  it('frees the slot of a task that throws', async () => {
    const l = new Limiter(1);
    await expect(l.run(async () => Promise.reject(new Error('judge down')))).rejects.toThrow('judge down');
    expect(await l.run(async () => 'next')).toBe('next');
    expect(l.running).toBe(0);
  });

  it('never lets a task that arrives while a slot is being handed over run beside the waiter', async () => {
    // A task arriving a few microtasks after another finished used to find the slot free before the waiter
    // had resumed: it ran beside the waiter (one over the limit) and ahead of it.
    for (let hops = 0; hops < 6; hops++) {
      const l = new Limiter(1);
      let running = 0;
      let peak = 0;
      const order: string[] = [];
      const task =
        (name: string, hold: Promise<void> = tick(5)) =>
        async (): Promise<void> => {
          order.push(name);
          peak = Math.max(peak, ++running);
          await hold;
          running--;
        };
      let release!: () => void;
      const first = l.run(task('first', new Promise<void>((r) => (release = r))));
      await tick(1);
      const waiter = l.run(task('waiter'));
      let chain: Promise<unknown> = Promise.resolve();
      for (let i = 0; i < hops; i++) chain = chain.then(() => undefined);
      release();
      const late = chain.then(() => l.run(task('late')));
      await Promise.all([first, waiter, late]);
      expect(peak, `after ${hops} hops`).toBe(1);
      expect(order, `after ${hops} hops`).toEqual(['first', 'waiter', 'late']);
    }
  });
});
