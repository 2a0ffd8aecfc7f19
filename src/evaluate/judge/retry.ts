/** Which judge failures are worth another try, and how long the server asked to wait; the loop is component/retry. */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { retryAfterFromHeaders, type Backoff, type RetryVerdict } from '../../component/retry.js';

export { retryAfterFromHeaders };

export interface BackoffOptions extends Backoff {
  /** Longest Retry-After honoured; a server asking for more is given up on rather than blocking a worker. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000, maxRetryAfterMs: 60_000 };

/** What one failed try means for the loop. */
export interface FailedTry extends RetryVerdict {
  retryable: boolean;
  /** Why it failed, for the final error message. */
  reason: string;
  status?: number;
  /** Server-requested wait, when it sent one. */
  retryAfterMs?: number;
  aborted: boolean;
}

/** Statuses worth another try: timeout, conflict (OpenAI's documented transient), rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function classifyFailure(err: unknown, timeoutMs: number): FailedTry {
  if (err instanceof APIUserAbortError) return { retryable: false, reason: 'aborted', aborted: true };
  if (err instanceof APIConnectionTimeoutError) return { retryable: true, reason: `timed out after ${timeoutMs} ms`, aborted: false };
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { retryable: true, reason: `connection error (${err.message}${cause})`, aborted: false };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const detail = err.message.replace(/^\d{3}\s*/, '') || 'no message';
    // An exhausted quota also comes back as 429, but waiting does not refill it.
    const quota = err.code === 'insufficient_quota';
    const retryAfterMs = err.headers instanceof Headers ? retryAfterFromHeaders(err.headers) : undefined;
    const out: FailedTry = {
      retryable: isRetryableStatus(status) && !quota,
      reason: `HTTP ${status}${status === 429 ? ' rate limited' : ''}: ${detail}`,
      status,
      aborted: false,
    };
    if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
    return out;
  }
  return { retryable: false, reason: err instanceof Error ? err.message : String(err), aborted: false };
}
