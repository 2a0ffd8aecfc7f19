import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { permanent, retryable, throttled, tooLarge, classifyStoreError } from '../../src/component/errors.js';
import { OtlpDecodeError } from '../../src/otlp/decode.js';
import { toOtlpFailure } from '../../src/receivers/otlp/status.js';

describe('pipeline error → OTLP status', () => {
  it.each([
    ['permanent', permanent('bad'), 400, status.INVALID_ARGUMENT, undefined],
    ['decode error', new OtlpDecodeError('invalid protobuf'), 400, status.INVALID_ARGUMENT, undefined],
    ['retryable', retryable('store down', 2), 503, status.UNAVAILABLE, 2],
    ['throttled', throttled('queue full', 3), 503, status.UNAVAILABLE, 3],
    ['too large', tooLarge('big'), 413, status.RESOURCE_EXHAUSTED, undefined],
    ['unknown error', new Error('surprise'), 503, status.UNAVAILABLE, 1],
  ] as const)('%s', (_name, err, http, grpc, retryAfter) => {
    const f = toOtlpFailure(err);
    expect(f.httpStatus).toBe(http);
    expect(f.grpcCode).toBe(grpc);
    expect(f.retryAfterSeconds).toBe(retryAfter);
  });

  it('classifies ClickHouse data errors as permanent and everything else as retryable', () => {
    expect(classifyStoreError(Object.assign(new Error('Cannot parse input'), { code: '27' })).errorClass).toBe('permanent');
    expect(classifyStoreError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).errorClass).toBe('retryable');
    expect(classifyStoreError(new Error('socket hang up')).errorClass).toBe('retryable');
  });
});
