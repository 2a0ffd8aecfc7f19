import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { grpcExport } from '../helpers/grpc.js';
import { lenField, traceRequestWithSpan, varintField } from '../helpers/wire.js';

/** gRPC refuses a request whose known field arrives with a wire type it cannot have, instead of acking it. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const exportRaw = async (body: Buffer): Promise<ServiceError | null> => (await grpcExport(t.otlpGrpc, 'traces', body)).err;

describe('OTLP/gRPC malformed fields', () => {
  it('answers INVALID_ARGUMENT for a known field with the wrong wire type', async () => {
    const err = await exportRaw(traceRequestWithSpan(varintField(5, 1)));
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/field 5 has wire type 0/);
  });

  it('answers OK for the same span with its name as a string', async () => {
    expect(await exportRaw(traceRequestWithSpan(lenField(5, Buffer.from('fine')), lenField(7, Buffer.alloc(0))))).not.toBeNull();
    expect(await exportRaw(traceRequestWithSpan(lenField(5, Buffer.from('fine'))))).toBeNull();
  });
});
