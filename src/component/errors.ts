/**
 * Every failure in the pipeline is classified once, where it is first seen, and every stage only asks
 * which class it is (the OTel Collector's consumererror idea):
 * - permanent: the data is bad; retrying cannot help (OTLP: 400 / INVALID_ARGUMENT).
 * - retryable: something downstream is unavailable; the caller should retry (503 / UNAVAILABLE).
 * - throttled: we are overloaded; retry after a delay (429 or 503 with Retry-After / UNAVAILABLE).
 * - too_large: the request exceeds a size limit (413 / RESOURCE_EXHAUSTED).
 */
export type ErrorClass = 'permanent' | 'retryable' | 'throttled' | 'too_large';

/**
 * Stable pipeline error codes, each with one class. Logs, dead-letter headers and the CLI carry the code;
 * messages may change. The README's "Pipeline and start-up errors" lists the same codes (a test keeps the
 * two in sync).
 */
export const PIPELINE_ERRORS = {
  INVALID_BODY: { errorClass: 'permanent', description: 'an OTLP request body cannot be decompressed' },
  INVALID_PROJECT: { errorClass: 'permanent', description: 'a request names a project that is not a valid project name' },
  TOO_LARGE: { errorClass: 'too_large', description: 'a request body is over the size limit' },
  SHUTTING_DOWN: { errorClass: 'retryable', description: 'the process is stopping; the client retries later or elsewhere' },
  QUEUE_FULL: { errorClass: 'throttled', description: 'the inline bus holds as many items as it may; the client retries after a delay' },
  OVER_BUDGET: { errorClass: 'throttled', description: 'the requests being handled hold `receivers.memory_budget_bytes`; the client retries after a delay' },
  TOO_MANY_UPLOADS: { errorClass: 'throttled', description: '`receivers.max_concurrent_uploads` bodies are being read; the client retries after a delay' },
  BODY_TIMEOUT: { errorClass: 'retryable', description: 'a request body was not received within `receivers.body_timeout_ms` (HTTP 408)' },
  WRITE_FAILED: { errorClass: 'retryable', description: 'the write stage failed in an unexpected way (inline bus); treated as transient' },
  BUS_UNAVAILABLE: { errorClass: 'retryable', description: 'Kafka cannot be reached or did not take the messages' },
  BUS_TIMEOUT: { errorClass: 'retryable', description: 'Kafka did not acknowledge within `bus.kafka.produce_timeout_ms`' },
  BUS_BEHIND: { errorClass: 'throttled', description: 'more than `bus.kafka.max_inflight_bytes` wait for Kafka to acknowledge' },
  MESSAGE_TOO_LARGE: { errorClass: 'permanent', description: "Kafka refused a message as too large: raise the topic's `max.message.bytes`" },
  UNDECODABLE_MESSAGE: { errorClass: 'permanent', description: 'a bus message cannot be decoded; it goes to the dead-letter topic' },
  STORE_REJECTED: { errorClass: 'permanent', description: 'the store refused the data as invalid; a Kafka batch goes to the dead-letter topic' },
  STORE_INVALID_REGEX: { errorClass: 'permanent', description: 'the store cannot compile a regular expression of a query (RE2)' },
  STORE_UNAVAILABLE: { errorClass: 'retryable', description: 'the store cannot be reached' },
  STORE_FAILED: { errorClass: 'retryable', description: 'the store failed in an unknown way; treated as transient, since losing data is worse than retrying' },
} as const satisfies Record<string, { errorClass: ErrorClass; description: string }>;

export type PipelineErrorCode = keyof typeof PIPELINE_ERRORS;

export class PipelineError extends Error {
  override name = 'PipelineError';
  readonly errorClass: ErrorClass;
  /** Seconds the caller should wait before retrying (retryable and throttled). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly code: PipelineErrorCode,
    message: string,
    opts: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.errorClass = PIPELINE_ERRORS[code].errorClass;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? (this.errorClass === 'retryable' || this.errorClass === 'throttled' ? 1 : undefined);
  }
}

/** The one way to make a pipeline error: the code fixes the class. */
export const pipelineError = (code: PipelineErrorCode, message: string, opts?: { retryAfterSeconds?: number; cause?: unknown }): PipelineError =>
  new PipelineError(code, message, opts);

/**
 * Stable codes of the errors that stop the process before it serves (bad configuration, an unreachable
 * dependency). The CLI prints the code with the message; the README lists the same codes.
 */
export const STARTUP_ERRORS = {
  CONFIG_INVALID: 'a setting in the config file, the environment or a flag is missing, unknown or malformed',
  ROLE_CONFIG_INVALID: 'the requested role cannot run with this configuration (a single role needs the Kafka bus)',
  STORE_SETUP_FAILED: 'the store cannot be opened: the optional chdb package is missing, or ClickHouse cannot be reached',
  KAFKA_UNREACHABLE: 'no Kafka broker answered at `bus.kafka.brokers`',
  KAFKA_CLIENT_MISSING: '`bus.kafka.client` is `librdkafka` but the optional `@confluentinc/kafka-javascript` package cannot be loaded',
  PIPELINE_GRAPH_INVALID: 'the components a configuration asks for cannot be connected (one needs a component that is switched off)',
} as const;

export type StartupErrorCode = keyof typeof STARTUP_ERRORS;

export class StartupError extends Error {
  constructor(
    readonly code: StartupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The one helper that gives a start-up error class its code:
 * `class ConfigError extends startupError('CONFIG_INVALID') { override name = 'ConfigError'; }`.
 */
export function startupError(code: StartupErrorCode): new (message: string, options?: { cause?: unknown }) => StartupError {
  return class extends StartupError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/** The stable code of a pipeline or start-up error; undefined for anything else. */
export function errorCode(err: unknown): PipelineErrorCode | StartupErrorCode | undefined {
  return err instanceof PipelineError || err instanceof StartupError ? err.code : undefined;
}

/** `[CODE] message` for errors that have a code, the message otherwise: how the CLI prints an error. */
export function formatError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  return code === undefined ? message : `[${code}] ${message}`;
}

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

/** ClickHouse rejects an RLIKE pattern that RE2 cannot compile only when the query runs. */
const CANNOT_COMPILE_REGEXP = 427;

/** Socket errors that mean the store cannot be reached at all. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

/** Classifies an error from the store. Unknown errors are retryable: losing data is worse than retrying. */
export function classifyStoreError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
  if (Number.isInteger(code) && PERMANENT_CLICKHOUSE_CODES.has(code)) {
    return pipelineError('STORE_REJECTED', `store rejected the data: ${message}`, { cause: err });
  }
  // Our words, not the engine's: its text names internals and can be long; the cause keeps it for the logs.
  if (code === CANNOT_COMPILE_REGEXP)
    return pipelineError('STORE_INVALID_REGEX', 'invalid regular expression: RE2 cannot compile a pattern of the filter', { cause: err });
  if (typeof raw === 'string' && CONNECTION_CODES.has(raw)) return pipelineError('STORE_UNAVAILABLE', `store unavailable: ${message}`, { cause: err });
  return pipelineError('STORE_FAILED', `store unavailable: ${message}`, { cause: err });
}
