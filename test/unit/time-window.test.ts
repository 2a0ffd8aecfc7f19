import { describe, expect, it } from 'vitest';
import { describeRefusal, outsideWindow, timeWindow } from '../../src/receivers/otlp/time-window.js';

const NOW_MS = Date.UTC(2026, 11, 1);
const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const DAY_MS = 86_400_000;

describe('the span start times the store keeps', () => {
  it('with retention: from now minus retention_days to 2106 minus retention_days (the 32-bit TTL)', () => {
    const w = timeWindow(30, NOW_MS);
    expect(outsideWindow(ns(NOW_MS), w)).toBe(false);
    expect(outsideWindow(ns(NOW_MS - 29 * DAY_MS), w)).toBe(false);
    expect(outsideWindow(ns(NOW_MS - 31 * DAY_MS), w)).toBe(true);
    expect(outsideWindow(ns(Date.UTC(2100, 0, 1)), w)).toBe(false);
    // 2^32 s is 2106-02-07T06:28:16Z; thirty days before it, the TTL already wraps.
    expect(outsideWindow(ns(Date.UTC(2106, 0, 9)), w)).toBe(true);
    expect(outsideWindow('9000000000000000000', w)).toBe(true);
    expect(outsideWindow('18446744073709551615', w)).toBe(true);
    expect(describeRefusal(2, w)).toBe(
      '2 span(s) start outside the times the store keeps (between 2026-11-01T00:00:00.000Z (retention_days = 30) and 2106-01-08T06:28:16.000Z): they would be deleted at once, so they were not accepted',
    );
  });

  it('without retention: anything DateTime64(9) holds', () => {
    const w = timeWindow(0, NOW_MS);
    expect(outsideWindow('0', w)).toBe(false);
    expect(outsideWindow('9000000000000000000', w)).toBe(false);
    expect(outsideWindow('9223372036854775807', w)).toBe(true);
    expect(outsideWindow('18446744073709551615', w)).toBe(true);
  });
});
