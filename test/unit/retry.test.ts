import { describe, expect, it } from 'vitest';
import { pipelineError } from '../../src/component/errors.js';
import { backoffDelay, pipelineVerdict, retry, RetryGaveUp, type RetryOptions, type RetryVerdict, type Sleep } from '../../src/component/retry.js';

/** A sleep that records the waits asked for and returns at once: no real time passes. */
function fakeSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** An attempt that fails with `errors` in turn, then resolves with 'ok'. */
function failing(...errors: unknown[]): { attempt: (retry: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    attempt: async (n) => {
      calls.push(n);
      if (calls.length <= errors.length) throw errors[calls.length - 1];
      return 'ok';
    },
  };
}

const down = (): Error => pipelineError('STORE_UNAVAILABLE', 'store unavailable: connect ECONNREFUSED');
const backoff = { baseMs: 100, maxMs: 1_000 };

async function gaveUp<T>(p: Promise<T>): Promise<RetryGaveUp> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetryGaveUp);
  return err as RetryGaveUp;
}

describe('backoff', () => {
  it('doubles up to the ceiling, with equal jitter (half fixed, half random)', () => {
    expect([0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, undefined, backoff, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, undefined, backoff, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("takes a server's Retry-After as a floor with at most 250 ms or 10 % of jitter on top", () => {
    expect(backoffDelay(7, 2_000, backoff, () => 0)).toBe(2_000);
    expect(backoffDelay(7, 2_000, backoff, () => 1)).toBe(2_200);
    expect(backoffDelay(0, 60_000, backoff, () => 1)).toBe(60_250);
    expect(backoffDelay(0, 0, backoff, () => 1)).toBe(0);
  });
});

describe('retry', () => {
  it('retries retryable failures with growing waits until the attempt succeeds', async () => {
    const { sleep, waits } = fakeSleep();
    const { attempt, calls } = failing(down(), down(), down());
    const retries: number[] = [];
    const result = await retry(attempt, { backoff, sleep, random: () => 1, onRetry: ({ tries }) => retries.push(tries) });
    expect(result).toBe('ok');
    expect(calls).toEqual([0, 1, 2, 3]);
    expect(waits).toEqual([100, 200, 400]);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('gives up at once on a permanent failure, keeping the error', async () => {
    const { sleep, waits } = fakeSleep();
    const refused = pipelineError('STORE_REJECTED', 'store rejected the data: Cannot parse input');
    const { attempt, calls } = failing(down(), refused);
    const err = await gaveUp(retry(attempt, { backoff, sleep }));
    expect(err.reason).toBe('permanent');
    expect(err.error).toBe(refused);
    expect(err.cause).toBe(refused);
    expect(err.tries).toBe(2);
    expect(calls).toHaveLength(2);
    expect(waits).toHaveLength(1);
  });

  it('retries unclassified errors by default, and classifies pipeline errors by their class', () => {
    expect(pipelineVerdict(new Error('socket hang up'))).toEqual({ retryable: true });
    expect(pipelineVerdict(pipelineError('QUEUE_FULL', 'full'))).toEqual({ retryable: true });
    expect(pipelineVerdict(pipelineError('STORE_REJECTED', 'bad'))).toEqual({ retryable: false });
    expect(pipelineVerdict(pipelineError('TOO_LARGE', 'big'))).toEqual({ retryable: false });
  });

  it('stops after maxRetries', async () => {
    const { sleep, waits } = fakeSleep();
    const { attempt, calls } = failing(down(), down(), down(), down());
    const err = await gaveUp(retry(attempt, { backoff, sleep, maxRetries: 2 }));
    expect(err.reason).toBe('retries');
    expect(err.tries).toBe(3);
    expect(calls).toEqual([0, 1, 2]);
    expect(waits).toHaveLength(2);
  });

  it('waits what the server asked for, and gives up when it asks for more than allowed', async () => {
    const { sleep, waits } = fakeSleep();
    const classify = (e: unknown): RetryVerdict => ({ retryable: true, retryAfterMs: (e as { after: number }).after });
    const { attempt } = failing({ after: 3_000 }, { after: 90_000 });
    const err = await gaveUp(retry(attempt, { backoff, sleep, classify, random: () => 0, maxRetryAfterMs: 60_000 }));
    expect(waits).toEqual([3_000]);
    expect(err.reason).toBe('retry_after');
    expect(err.verdict).toEqual({ retryable: true, retryAfterMs: 90_000 });
  });

  it('gives up rather than wait past the deadline', async () => {
    const { sleep, waits } = fakeSleep();
    let t = 1_000;
    const slept: Sleep = async (ms, s) => {
      await sleep(ms, s);
      t += ms;
    };
    const { attempt, calls } = failing(down(), down(), down(), down());
    // Waits of 100, 200, 400 with random 1: the third would end at 1 700, past 1 500.
    const err = await gaveUp(retry(attempt, { backoff, sleep: slept, random: () => 1, now: () => t, deadline: 1_500 }));
    expect(err.reason).toBe('deadline');
    expect(waits).toEqual([100, 200]);
    expect(calls).toHaveLength(3);
  });

  it('asks whether it is still running, before and after each wait, with the tries made', async () => {
    const { sleep } = fakeSleep();
    const asked: number[] = [];
    let running = true;
    const stopDuringWait: Sleep = async (ms, s) => {
      await sleep(ms, s);
      if (asked.length === 3) running = false;
    };
    const { attempt, calls } = failing(down(), down(), down());
    const err = await gaveUp(
      retry(attempt, {
        backoff,
        sleep: stopDuringWait,
        running: (tries) => {
          asked.push(tries);
          return running;
        },
      }),
    );
    expect(err.reason).toBe('stopped');
    expect(asked).toEqual([1, 1, 2, 2]);
    expect(calls).toHaveLength(2);
  });

  it('rejects with the signal’s reason when aborted during a wait or a try, and does not start when already aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('shutting down');
    const abortingSleep: Sleep = (_ms, signal) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('AbortError')));
        ac.abort(reason);
      });
    const { attempt, calls } = failing(down());
    await expect(retry(attempt, { backoff, sleep: abortingSleep, signal: ac.signal })).rejects.toBe(reason);
    expect(calls).toHaveLength(1);
    await expect(retry(attempt, { backoff, signal: ac.signal })).rejects.toBe(reason);
    expect(calls).toHaveLength(1);

    const during = new AbortController();
    const opts: RetryOptions<RetryVerdict> = { backoff, signal: during.signal, sleep: fakeSleep().sleep };
    await expect(
      retry(async () => {
        during.abort(reason);
        throw new Error('aborted request');
      }, opts),
    ).rejects.toBe(reason);
  });

  it('uses a real, abortable sleep when none is given', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    const waited: number[] = [];
    const p = retry(failing(down()).attempt, {
      backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
      signal: ac.signal,
      onRetry: ({ delayMs }) => waited.push(delayMs),
    });
    // Every microtask runs before this: the loop is in its hour-long wait by now.
    await new Promise((r) => setImmediate(r));
    expect(waited).toHaveLength(1);
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
  });
});
