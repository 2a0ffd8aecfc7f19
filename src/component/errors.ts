/**
 * Every failure in the pipeline is classified once, where it is first seen, and every stage only asks
 * which class it is (the OTel Collector's consumererror idea):
 * - permanent: the data is bad; retrying cannot help (OTLP: 400 / INVALID_ARGUMENT).
 * - retryable: something downstream is unavailable; the caller should retry (503 / UNAVAILABLE).
 * - throttled: we are overloaded; retry after a delay (429 or 503 with Retry-After / UNAVAILABLE).
 * - too_large: the request exceeds a size limit (413 / RESOURCE_EXHAUSTED).
 */
export type ErrorClass = 'permanent' | 'retryable' | 'throttled' | 'too_large';

export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    /** Seconds the caller should wait before retrying (retryable and throttled). */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const permanent = (message: string, cause?: unknown): PipelineError =>
  new PipelineError('permanent', message, undefined, { cause });
export const retryable = (message: string, retryAfterSeconds = 1, cause?: unknown): PipelineError =>
  new PipelineError('retryable', message, retryAfterSeconds, { cause });
export const throttled = (message: string, retryAfterSeconds = 1): PipelineError =>
  new PipelineError('throttled', message, retryAfterSeconds);
export const tooLarge = (message: string): PipelineError => new PipelineError('too_large', message);

/** ClickHouse error codes that mean the data itself is wrong (parse failures, type mismatches, bad values). */
const PERMANENT_CLICKHOUSE_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
]);

/** Classifies an error from the store. Unknown errors are retryable: losing data is worse than retrying. */
export function classifyStoreError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = Number((err as { code?: unknown } | null)?.code);
  if (Number.isInteger(code) && PERMANENT_CLICKHOUSE_CODES.has(code)) {
    return permanent(`store rejected the data: ${message}`, err);
  }
  return retryable(`store unavailable: ${message}`, 1, err);
}
