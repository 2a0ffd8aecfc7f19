import type { JudgeUsage } from '../scorers/types.js';

/** A judge call that produced no usable verdict. */
export class JudgeError extends Error {
  override readonly name = 'JudgeError';
  /**
   * True when the same call might succeed later (rate limits, outages, timeouts that outlasted the retries);
   * false when retrying cannot help (bad request, auth, unknown provider, a reply with no verdict).
   */
  readonly retryable: boolean;
  /** HTTP status of the last try, when there was one. */
  readonly status: number | undefined;
  /** HTTP tries made (0 when the call never reached the network). */
  readonly attempts: number;
  /** Set when the model did answer (and bill) but the answer was unusable. */
  readonly usage: JudgeUsage | undefined;

  constructor(message: string, opts: { retryable: boolean; status?: number; attempts?: number; cause?: unknown; usage?: JudgeUsage }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = opts.retryable;
    this.status = opts.status;
    this.attempts = opts.attempts ?? 0;
    this.usage = opts.usage;
  }
}
