import { status as GrpcStatus } from '@grpc/grpc-js';
import { AuthUnavailable, type Authenticator } from '../../auth/keyring.js';
import { AuthFailure, authorize, bearerSecret } from '../../auth/keys.js';
import { ingestGuard, type IngestGuard } from '../../auth/ingest.js';
import { RateLimited } from '../../auth/limits.js';

/**
 * Authentication of an OTLP export, the same for both transports: the key (`Authorization: Bearer`, gRPC
 * metadata `authorization`) must have the `ingest` scope; its project replaces whatever the request
 * names, and naming another one is refused. With auth off, only the ingest limits apply.
 */
export async function authorizeExport(
  auth: Authenticator | undefined,
  authorization: string | undefined,
  projectHeader: string | undefined,
  transport: 'http' | 'grpc',
): Promise<{ project: string | undefined; guard: IngestGuard | undefined }> {
  if (!auth) return { project: projectHeader, guard: undefined };
  const principal = await auth.authenticate(bearerSecret(authorization), transport);
  const named = projectHeader === '' ? undefined : projectHeader;
  try {
    authorize(principal, 'ingest', named ?? principal.project ?? '');
  } catch (err) {
    if (err instanceof AuthFailure) auth.refused(err, transport);
    throw err;
  }
  return { project: principal.project ?? named, guard: ingestGuard(principal, auth.limiter) };
}

export interface AuthAnswer {
  httpStatus: number;
  grpcCode: GrpcStatus;
  message: string;
  retryAfterSeconds?: number;
  /** google.rpc.Status with RetryInfo, for the `grpc-status-details-bin` trailer. */
  grpcDetails?: Buffer;
}

/** The answer to an auth refusal, an unavailable key source or a rate limit; null for other errors. */
export function authAnswer(err: unknown): AuthAnswer | null {
  if (err instanceof AuthFailure) {
    return err.status === 401
      ? { httpStatus: 401, grpcCode: GrpcStatus.UNAUTHENTICATED, message: err.message }
      : { httpStatus: 403, grpcCode: GrpcStatus.PERMISSION_DENIED, message: err.message };
  }
  if (err instanceof AuthUnavailable) return { httpStatus: 503, grpcCode: GrpcStatus.UNAVAILABLE, message: err.message, retryAfterSeconds: 1 };
  if (err instanceof RateLimited) {
    return {
      httpStatus: 429,
      grpcCode: GrpcStatus.RESOURCE_EXHAUSTED,
      message: err.message,
      retryAfterSeconds: err.retryAfterSeconds,
      grpcDetails: retryInfoStatus(GrpcStatus.RESOURCE_EXHAUSTED, err.message, err.retryAfterSeconds),
    };
  }
  return null;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const field = (tag: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([tag, ...varint(bytes.length)]), bytes]);

/**
 * google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay})]}: what the OTLP
 * spec asks a throttling gRPC server to send, so exporters wait that long before retrying.
 */
export function retryInfoStatus(code: number, message: string, seconds: number): Buffer {
  const duration = Buffer.from([0x08, ...varint(seconds)]);
  const retryInfo = field(0x0a, duration);
  const any = Buffer.concat([field(0x0a, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(0x12, retryInfo)]);
  return Buffer.concat([Buffer.from([0x08, ...varint(code)]), field(0x12, Buffer.from(message)), field(0x1a, any)]);
}
