import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { classifyStoreError, pipelineError } from '../../src/component/errors.js';
import { classifyKafkaError } from '../../src/bus/kafka/errors.js';
import { OtlpDecodeError } from '../../src/otlp/decode.js';
import { toOtlpFailure } from '../../src/receivers/otlp/status.js';

describe('pipeline error → OTLP status', () => {
  it.each([
    ['permanent', pipelineError('INVALID_PROJECT', 'bad'), 400, status.INVALID_ARGUMENT, undefined],
    ['decode error', new OtlpDecodeError('invalid protobuf'), 400, status.INVALID_ARGUMENT, undefined],
    ['retryable', pipelineError('STORE_UNAVAILABLE', 'store down', { retryAfterSeconds: 2 }), 503, status.UNAVAILABLE, 2],
    ['throttled', pipelineError('QUEUE_FULL', 'queue full', { retryAfterSeconds: 3 }), 503, status.UNAVAILABLE, 3],
    ['too large', pipelineError('TOO_LARGE', 'big'), 413, status.RESOURCE_EXHAUSTED, undefined],
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

describe('pipeline error codes', () => {
  it('fix the class, and give retryable and throttled errors a default wait', () => {
    expect(pipelineError('STORE_REJECTED', 'x')).toMatchObject({ code: 'STORE_REJECTED', errorClass: 'permanent', retryAfterSeconds: undefined });
    expect(pipelineError('QUEUE_FULL', 'x')).toMatchObject({ errorClass: 'throttled', retryAfterSeconds: 1 });
    expect(pipelineError('BUS_TIMEOUT', 'x', { retryAfterSeconds: 5 })).toMatchObject({ errorClass: 'retryable', retryAfterSeconds: 5 });
  });

  it('are given to store errors by one classifier', () => {
    const data = Object.assign(new Error('Cannot parse input'), { code: '27' });
    expect(classifyStoreError(data)).toMatchObject({ code: 'STORE_REJECTED', cause: data });
    expect(classifyStoreError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).code).toBe('STORE_UNAVAILABLE');
    expect(classifyStoreError(Object.assign(new Error('Cannot compile re2: (\nmore'), { code: '427' }))).toMatchObject({
      code: 'STORE_INVALID_REGEX',
      errorClass: 'permanent',
      message: 'invalid regular expression: RE2 cannot compile a pattern of the filter',
    });
    expect(classifyStoreError(new Error('socket hang up')).code).toBe('STORE_FAILED');
    const already = pipelineError('SHUTTING_DOWN', 'x');
    expect(classifyStoreError(already)).toBe(already);
  });

  it('are given to Kafka produce errors by one classifier', () => {
    const big = Object.assign(new Error('The request included a message larger than the max message size'), { type: 'MESSAGE_TOO_LARGE' });
    expect(classifyKafkaError(big, 1_000_000)).toMatchObject({ code: 'MESSAGE_TOO_LARGE', errorClass: 'permanent', cause: big });
    expect(classifyKafkaError(big, 1_000_000).message).toMatch(/max_message_bytes \(1000000\)/);
    expect(classifyKafkaError(new Error('Connection timeout'), 1)).toMatchObject({ code: 'BUS_UNAVAILABLE', errorClass: 'retryable', retryAfterSeconds: 5 });
  });
});
