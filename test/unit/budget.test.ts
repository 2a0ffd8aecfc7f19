import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/component/budget.js';

describe('ByteBudget', () => {
  it('takes bytes at once or refuses at once, and gives them back on release', () => {
    const seen: number[] = [];
    const b = new ByteBudget(100, (used) => seen.push(used));
    const a = b.tryAcquire(60);
    expect(a?.bytes).toBe(60);
    expect(b.tryAcquire(50)).toBeNull();
    const c = b.tryAcquire(40);
    expect(b.inUse).toBe(100);
    a?.release();
    a?.release(); // idempotent
    expect(b.inUse).toBe(40);
    c?.release();
    expect(b.inUse).toBe(0);
    expect(seen[seen.length - 1]).toBe(0);
  });

  it('grows and shrinks a lease, refusing growth past the limit without changing anything', () => {
    const b = new ByteBudget(100);
    const other = b.tryAcquire(30);
    const l = b.tryAcquire(10);
    expect(l?.resize(70)).toBe(true);
    expect(l?.resize(71)).toBe(false);
    expect(b.inUse).toBe(100);
    expect(l?.resize(5)).toBe(true);
    expect(b.inUse).toBe(35);
    other?.release();
    l?.release();
    expect(b.inUse).toBe(0);
  });

  it('lets one lease pass the limit when nothing else is held, so a large request is served alone', () => {
    const b = new ByteBudget(100);
    const big = b.tryAcquire(10);
    expect(big?.resize(500)).toBe(true);
    expect(b.tryAcquire(1)).toBeNull();
    big?.release();
    expect(b.tryAcquire(1)).not.toBeNull();
  });
});
