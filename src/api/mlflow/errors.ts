import { classifyStoreError } from '../../component/errors.js';
import { FilterSyntaxError } from '../../query/filter/index.js';
import { ApiError } from '../errors.js';
import { RawReply } from '../reply.js';

/** MLflow's error codes this API answers with, and the HTTP status MLflow's server gives each. */
export const MLFLOW_ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;
export type MlflowErrorCode = keyof typeof MLFLOW_ERROR_STATUS;

/** An error the MLflow client reads: `{"error_code", "message"}` with its status. */
export class MlflowError extends Error {
  override name = 'MlflowError';
  constructor(
    readonly code: MlflowErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return MLFLOW_ERROR_STATUS[this.code];
  }
}

/** tracehouse's own error codes (raised by shared parsing and the body reader) in MLflow's terms. */
const FROM_API: Partial<Record<ApiError['code'], MlflowErrorCode>> = {
  NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  UNAVAILABLE: 'TEMPORARILY_UNAVAILABLE',
  INTERNAL: 'INTERNAL_ERROR',
};

/**
 * Any failure as MLflow's client expects it. Bad input is a 400 (never retried), an unknown id a 404; only
 * an unreachable store is a 503, which the client retries with backoff.
 */
export function toMlflowError(err: unknown): MlflowError {
  if (err instanceof MlflowError) return err;
  if (err instanceof ApiError) {
    if (err.code === 'PAYLOAD_TOO_LARGE' || err.code === 'HEADERS_TOO_LARGE') return new MlflowError('INVALID_PARAMETER_VALUE', err.message);
    return new MlflowError(FROM_API[err.code] ?? 'INVALID_PARAMETER_VALUE', err.message);
  }
  if (err instanceof FilterSyntaxError) return new MlflowError('INVALID_PARAMETER_VALUE', `invalid filter: ${err.message}`);
  // A bug of ours is not the store being away: say so rather than have the client retry it for minutes.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return new MlflowError('INTERNAL_ERROR', 'internal error');
  const e = classifyStoreError(err);
  if (e.errorClass === 'permanent') return new MlflowError('INVALID_PARAMETER_VALUE', e.message);
  return new MlflowError('TEMPORARILY_UNAVAILABLE', e.message);
}

export function errorReply(err: MlflowError): RawReply {
  return RawReply.json(err.status, { error_code: err.code, message: err.message });
}
