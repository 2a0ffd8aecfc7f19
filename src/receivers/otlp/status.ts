import { status as GrpcStatus } from '@grpc/grpc-js';
import { PipelineError, type ErrorClass } from '../../component/errors.js';
import { OtlpDecodeError } from '../../otlp/decode.js';

/**
 * The one place where pipeline errors become OTLP answers (OTLP spec, "Failures" and "Throttling"):
 * permanent → 400 / INVALID_ARGUMENT (clients must not retry), retryable and throttled → 503 with
 * Retry-After / UNAVAILABLE (clients retry with backoff), too large → 413 / RESOURCE_EXHAUSTED.
 */
export interface OtlpFailure {
  errorClass: ErrorClass;
  httpStatus: number;
  grpcCode: GrpcStatus;
  message: string;
  retryAfterSeconds: number | undefined;
}

const TABLE: Record<ErrorClass, { httpStatus: number; grpcCode: GrpcStatus }> = {
  permanent: { httpStatus: 400, grpcCode: GrpcStatus.INVALID_ARGUMENT },
  retryable: { httpStatus: 503, grpcCode: GrpcStatus.UNAVAILABLE },
  throttled: { httpStatus: 503, grpcCode: GrpcStatus.UNAVAILABLE },
  too_large: { httpStatus: 413, grpcCode: GrpcStatus.RESOURCE_EXHAUSTED },
};

export function toOtlpFailure(err: unknown): OtlpFailure {
  let errorClass: ErrorClass;
  let retryAfterSeconds: number | undefined;
  let message: string;
  if (err instanceof PipelineError) {
    errorClass = err.errorClass;
    retryAfterSeconds = err.retryAfterSeconds;
    message = err.message;
  } else if (err instanceof OtlpDecodeError) {
    errorClass = 'permanent';
    message = err.message;
  } else {
    // Unknown failures are treated as transient so that clients keep the data and retry.
    errorClass = 'retryable';
    retryAfterSeconds = 1;
    message = `internal error: ${err instanceof Error ? err.message : String(err)}`;
  }
  if ((errorClass === 'retryable' || errorClass === 'throttled') && retryAfterSeconds === undefined) retryAfterSeconds = 1;
  return { errorClass, ...TABLE[errorClass], message, retryAfterSeconds };
}
