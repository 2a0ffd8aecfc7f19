import { describe, expect, it } from 'vitest';
import { TraceAssembler } from '../../src/evaluate/assembler.js';

const SETTLE = 1_000;
const MAX_WAIT = 60_000;
const T0 = 1_700_000_000_000;
const assembler = (o: { maxPending?: number; rememberDone?: number } = {}): TraceAssembler<number> =>
  new TraceAssembler<number>({
    settleMs: SETTLE,
    maxWaitMs: MAX_WAIT,
    maxPending: o.maxPending ?? 100,
    ...(o.rememberDone ? { rememberDone: o.rememberDone } : {}),
  });
const ids = (ts: Array<{ traceId: string }>): string[] => ts.map((t) => t.traceId);
let nextSpan = 0;
/** `n` new span ids. */
const spans = (n: number): string[] => Array.from({ length: n }, () => (nextSpan++).toString(16).padStart(16, '0'));

describe('trace assembler', () => {
  it('hands a trace out once its root has arrived and nothing came for settle_ms, not before', () => {
    const a = assembler();
    a.observe('p', 't1', false, spans(2), T0, 1);
    a.observe('p', 't1', true, spans(1), T0 + 200, 2);
    expect(a.takeReady(T0 + 200 + SETTLE - 1)).toEqual([]);
    const [ready, ...rest] = a.takeReady(T0 + 200 + SETTLE);
    expect(rest).toEqual([]);
    expect(ready).toMatchObject({ project: 'p', traceId: 't1', rootSeen: true, spanCount: 3, positions: [1, 2], firstSeenMs: T0, lastSpanMs: T0 + 200 });
    expect(a.size).toBe(0);
  });

  it('restarts the settle wait whenever another span of the trace arrives', () => {
    const a = assembler();
    a.observe('p', 't1', true, spans(1), T0);
    a.observe('p', 't1', false, spans(1), T0 + SETTLE - 10);
    expect(a.takeReady(T0 + SETTLE)).toEqual([]);
    expect(ids(a.takeReady(T0 + 2 * SETTLE - 10))).toEqual(['t1']);
  });

  it('waits for the root however quiet the trace is, until max_wait_ms after its first span', () => {
    const a = assembler();
    a.observe('p', 'no-root', false, spans(3), T0);
    expect(a.takeReady(T0 + 10 * SETTLE)).toEqual([]);
    expect(a.takeReady(T0 + MAX_WAIT - 1)).toEqual([]);
    const [t] = a.takeReady(T0 + MAX_WAIT);
    expect(t).toMatchObject({ traceId: 'no-root', rootSeen: false, spanCount: 3 });
  });

  it('caps a trace that never goes quiet at max_wait_ms', () => {
    const a = assembler();
    for (let t = 0; t < MAX_WAIT; t += SETTLE / 2) a.observe('p', 'chatty', t === 0, spans(1), T0 + t);
    expect(ids(a.takeReady(T0 + MAX_WAIT))).toEqual(['chatty']);
  });

  it('does not score a trace again when late spans arrive after it was handed out', () => {
    const a = assembler();
    a.observe('p', 't1', true, spans(3), T0);
    expect(ids(a.takeReady(T0 + SETTLE))).toEqual(['t1']);
    expect(a.observe('p', 't1', false, spans(1), T0 + SETTLE + 5)).toBe(false);
    expect(a.observe('p', 't1', true, spans(3), T0 + SETTLE + 6)).toBe(false);
    expect(a.lateSpans).toBe(2);
    expect(a.size).toBe(0);
    expect(a.takeReady(T0 + MAX_WAIT * 2)).toEqual([]);
  });

  it('counts a span delivered twice (an exporter retry) once', () => {
    const a = assembler();
    const first = spans(3);
    a.observe('p', 't1', true, first, T0);
    // The retry repeats the whole request; the store will hold 3 spans, so the scorer must wait for 3, not 6.
    a.observe('p', 't1', true, first, T0 + 10);
    a.observe('p', 't1', false, [...first.slice(0, 1), ...spans(1)], T0 + 20);
    const [t] = a.takeReady(T0 + 20 + SETTLE);
    expect(t?.spanCount).toBe(4);
  });

  it('keeps the same trace id in two projects apart', () => {
    const a = assembler();
    a.observe('shop', 't1', true, spans(1), T0);
    a.observe('support', 't1', false, spans(1), T0);
    const ready = a.takeReady(T0 + SETTLE);
    expect(ready.map((t) => t.project)).toEqual(['shop']);
    // The first project's late span does not disturb the second's pending trace.
    expect(a.observe('shop', 't1', false, spans(1), T0 + SETTLE)).toBe(false);
    expect(a.observe('support', 't1', true, spans(1), T0 + SETTLE)).toBe(true);
    expect(a.takeReady(T0 + 2 * SETTLE).map((t) => [t.project, t.spanCount])).toEqual([['support', 2]]);
  });

  it('hands ready traces out oldest first', () => {
    const a = assembler();
    a.observe('p', 'second', true, spans(1), T0 + 50);
    a.observe('p', 'first', false, spans(1), T0);
    a.observe('p', 'first', true, spans(1), T0 + 60);
    a.observe('p', 'third', true, spans(1), T0 + 100);
    expect(ids(a.takeReady(T0 + 100 + SETTLE))).toEqual(['first', 'second', 'third']);
  });

  it('counts traces beyond max_pending as overflow without failing, and takes new ones once there is room', () => {
    const a = assembler({ maxPending: 2 });
    expect(a.observe('p', 'a', true, spans(1), T0)).toBe(true);
    expect(a.observe('p', 'b', true, spans(1), T0)).toBe(true);
    expect(a.observe('p', 'c', true, spans(1), T0)).toBe(false);
    expect(a.observe('p', 'd', true, spans(1), T0)).toBe(false);
    expect(a.overflow).toBe(2);
    expect(a.size).toBe(2);
    // Traces already held still take their spans.
    expect(a.observe('p', 'a', false, spans(4), T0 + 1)).toBe(true);
    const ready = a.takeReady(T0 + 1 + SETTLE);
    expect(ready.map((t) => [t.traceId, t.spanCount])).toEqual([
      ['a', 5],
      ['b', 1],
    ]);
    expect(a.observe('p', 'e', true, spans(1), T0 + 2 * SETTLE)).toBe(true);
    expect(a.overflow).toBe(2);
  });

  it('remembers a bounded number of scored traces', () => {
    const a = assembler({ rememberDone: 2 });
    for (const id of ['a', 'b', 'c']) a.observe('p', id, true, spans(1), T0);
    expect(a.takeReady(T0 + SETTLE)).toHaveLength(3);
    // The two most recent are still remembered; the oldest was forgotten to keep memory bounded.
    expect(a.observe('p', 'c', false, spans(1), T0 + SETTLE)).toBe(false);
    expect(a.observe('p', 'b', false, spans(1), T0 + SETTLE)).toBe(false);
    expect(a.observe('p', 'a', false, spans(1), T0 + SETTLE)).toBe(true);
  });

  it('counts traces still being scored against max_pending, so a slow judge cannot grow memory without bound', () => {
    let inFlight = 0;
    const a = new TraceAssembler({ settleMs: 10, maxWaitMs: 1000, maxPending: 3, inFlight: () => inFlight });
    expect(a.observe('p', 't1', true, ['s1'], 0)).toBe(true);
    inFlight = 2;
    expect(a.observe('p', 't2', true, ['s1'], 0)).toBe(false);
    expect(a.overflow).toBe(1);
    inFlight = 1;
    expect(a.observe('p', 't3', true, ['s1'], 0)).toBe(true);
  });
});
