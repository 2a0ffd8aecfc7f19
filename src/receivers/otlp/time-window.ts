/**
 * The span start times the store can keep readable. A span outside them would be acknowledged and then
 * never found: older than `retention_days`, its TTL deletes it at the next merge; and the TTL is computed
 * on a 32-bit DateTime, so a start within `retention_days` of 2106-02-07 (the last second it holds)
 * overflows into the past and expires at once too (measured on the engine: a start of 9e18 ns is
 * "2255-03-14" as DateTime64 but "1982-12-30" as DateTime). Such spans are refused through partial success.
 */
const NS_PER_DAY = 86_400_000_000_000n;
/** 2^32 seconds: where DateTime (UInt32 seconds) wraps. */
const DATETIME_END_NS = 4_294_967_296n * 1_000_000_000n;
/** Int64 nanoseconds: where DateTime64(9) ends, the bound when there is no TTL. */
const DATETIME64_END_NS = 9_223_372_036_854_775_807n;

export interface TimeWindow {
  /** Earliest start kept (inclusive), or null without retention. */
  fromNs: bigint | null;
  /** First start no longer kept (exclusive). */
  toNs: bigint;
  retentionDays: number;
}

export function timeWindow(retentionDays: number, nowMs: number): TimeWindow {
  if (retentionDays <= 0) return { fromNs: null, toNs: DATETIME64_END_NS, retentionDays: 0 };
  const days = BigInt(Math.trunc(retentionDays)) * NS_PER_DAY;
  return { fromNs: BigInt(nowMs) * 1_000_000n - days, toNs: DATETIME_END_NS - days, retentionDays };
}

export function outsideWindow(startNs: string, w: TimeWindow): boolean {
  return outsideWindowNs(BigInt(startNs), w);
}

export function outsideWindowNs(ns: bigint, w: TimeWindow): boolean {
  return (w.fromNs !== null && ns < w.fromNs) || ns >= w.toNs;
}

const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString();

export function describeRefusal(count: number, w: TimeWindow): string {
  const kept = w.fromNs === null ? `before ${iso(w.toNs)}` : `between ${iso(w.fromNs)} (retention_days = ${w.retentionDays}) and ${iso(w.toNs)}`;
  return `${count} span(s) start outside the times the store keeps (${kept}): they would be deleted at once, so they were not accepted`;
}
