/**
 * The one retry loop: exponential backoff with jitter, a server's Retry-After, the permanent/retryable check,
 * a deadline, and a way to stop (an AbortSignal, or a "still running" check). Sleep, randomness and the
 * clock are injectable, so tests run it without real time.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Deadline } from './component.js';
import { PipelineError } from './errors.js';

export interface Backoff {
  /** First wait; doubled on each retry. */
  baseMs: number;
  /** Ceiling of the exponential part. */
  maxMs: number;
}

/** What one failure means for the loop. */
export interface RetryVerdict {
  retryable: boolean;
  /** The wait a server asked for, when it sent one; it replaces the exponential wait. */
  retryAfterMs?: number | undefined;
}

/** Waits `ms`; may return early (the loop then asks `running` again) and rejects when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryOptions<V extends RetryVerdict> {
  backoff: Backoff;
  /** Classifies each failure; `pipelineVerdict` by default. */
  classify?: (err: unknown) => V;
  /** Retries after the first try (at most maxRetries + 1 tries); unbounded by default. */
  maxRetries?: number;
  /** Longest Retry-After honoured: a server asking for more is given up on rather than blocking the caller. */
  maxRetryAfterMs?: number;
  /** No wait may end after this: the loop gives up instead. */
  deadline?: Deadline;
  /** Aborts a wait and stops the loop, which rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Asked before and after each wait with the tries made so far; false stops the loop. */
  running?: (tries: number) => boolean;
  /** Called before each wait (to log it). */
  onRetry?: (info: { error: unknown; verdict: V; tries: number; delayMs: number }) => void;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
}

/** Why the loop stopped without a result. */
export type GiveUpReason = 'permanent' | 'retries' | 'retry_after' | 'deadline' | 'stopped';

const GIVE_UP: Record<GiveUpReason, string> = {
  permanent: 'not retryable',
  retries: 'out of retries',
  retry_after: 'the server asked to wait longer than allowed',
  deadline: 'the deadline came first',
  stopped: 'stopped',
};

/** Thrown when the loop stops without a result; `error` is the last failure and `verdict` what it meant. */
export class RetryGaveUp<V extends RetryVerdict = RetryVerdict> extends Error {
  override name = 'RetryGaveUp';
  constructor(
    readonly reason: GiveUpReason,
    readonly error: unknown,
    readonly verdict: V,
    /** Tries made, the failed last one included. */
    readonly tries: number,
  ) {
    super(`${GIVE_UP[reason]} after ${tries} tr${tries === 1 ? 'y' : 'ies'}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * The default check: a pipeline error is retried when its class says so (retryable, throttled); anything
 * unclassified is retried, since losing data is worse than trying again. A pipeline error's
 * retryAfterSeconds is advice for OTLP clients, not a server's request, so it does not replace the backoff.
 */
export function pipelineVerdict(err: unknown): RetryVerdict {
  if (err instanceof PipelineError) return { retryable: err.errorClass === 'retryable' || err.errorClass === 'throttled' };
  return { retryable: true };
}

/**
 * Wait before retry number `retry` (0 for the first). A server's Retry-After is honoured as a floor with a little
 * jitter on top so that callers it throttled together do not come back together; otherwise exponential backoff
 * with "equal jitter" (half fixed, half random), which keeps the growth while spreading the callers.
 */
export function backoffDelay(retry: number, retryAfterMs: number | undefined, backoff: Backoff, random: () => number): number {
  if (retryAfterMs !== undefined) return retryAfterMs + random() * Math.min(250, retryAfterMs * 0.1);
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** retry);
  return exp / 2 + random() * (exp / 2);
}

/** `retry-after-ms` (milliseconds), else `retry-after` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return secs >= 0 ? secs * 1000 : undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const realSleep: Sleep = (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined);

/** Runs `attempt` (given the retry number, 0 first) until it resolves or the loop gives up (RetryGaveUp). */
export async function retry<T, V extends RetryVerdict = RetryVerdict>(attempt: (retry: number) => Promise<T>, opts: RetryOptions<V>): Promise<T> {
  const classify = opts.classify ?? (pipelineVerdict as (err: unknown) => V);
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const { signal } = opts;
  for (let retries = 0; ; retries++) {
    signal?.throwIfAborted();
    try {
      return await attempt(retries);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const tries = retries + 1;
      const verdict = classify(err);
      const giveUp = (reason: GiveUpReason): RetryGaveUp<V> => new RetryGaveUp(reason, err, verdict, tries);
      if (!verdict.retryable) throw giveUp('permanent');
      if (opts.maxRetries !== undefined && retries >= opts.maxRetries) throw giveUp('retries');
      if (verdict.retryAfterMs !== undefined && opts.maxRetryAfterMs !== undefined && verdict.retryAfterMs > opts.maxRetryAfterMs) throw giveUp('retry_after');
      if (opts.running && !opts.running(tries)) throw giveUp('stopped');
      const delayMs = backoffDelay(retries, verdict.retryAfterMs, opts.backoff, random);
      if (opts.deadline !== undefined && now() + delayMs > opts.deadline) throw giveUp('deadline');
      opts.onRetry?.({ error: err, verdict, tries, delayMs });
      try {
        await sleep(delayMs, signal);
      } catch (sleepErr) {
        // The caller sees its own reason, as if the abort had come during the try.
        throw signal?.aborted ? signal.reason : sleepErr;
      }
      if (signal?.aborted) throw signal.reason;
      if (opts.running && !opts.running(tries)) throw giveUp('stopped');
    }
  }
}
