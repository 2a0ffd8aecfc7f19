import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ExportTraceServiceResponse } from '../../src/otlp/proto.js';
import { fixtureSpans, loadFacts } from '../helpers/fixtures.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import { grpcExport } from '../helpers/grpc.js';
import type { TraceDetailView, TraceInfoView } from '../../src/api/views.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { 'receivers.max_body_bytes': 256 * 1024 } });
});
afterAll(async () => {
  await t?.stop();
});

type Method = 'traces' | 'logs';
const call = (method: Method, body: Buffer, project?: string): Promise<{ err: ServiceError | null; res?: Buffer }> =>
  grpcExport(t.otlpGrpc, method, body, {
    metadata: project ? { 'x-tracehouse-project': project } : {},
    channel: { 'grpc.max_send_message_length': 64 * 1024 * 1024 },
  });

const tracesIn = async (project: string): Promise<TraceInfoView[]> =>
  (await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=${project}`)).body.traces;

describe('OTLP/gRPC', () => {
  it('stores an export and answers an empty ExportTraceServiceResponse', async () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(fixtureSpans('mlflow')) as Uint8Array);
    const { err, res } = await call('traces', body, 'grpc-ok');
    expect(err).toBeNull();
    expect(ExportTraceServiceResponse.decode(res as Buffer).toJSON()).toEqual({});
    expect(await tracesIn('grpc-ok')).toHaveLength(5);
  });

  it('answers INVALID_ARGUMENT for an undecodable message and writes nothing', async () => {
    const { err } = await call('traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), 'grpc-bad');
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(await tracesIn('grpc-bad')).toHaveLength(0);
  });

  it('answers RESOURCE_EXHAUSTED for a message over the limit and writes nothing', async () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(fixtureSpans('mlflow')) as Uint8Array);
    // Unknown field 15 (bytes) pads the message past the limit without changing its meaning.
    const pad = Buffer.concat([Buffer.from([0x7a, 0x80, 0x80, 0x14]), Buffer.alloc(327_680)]);
    const { err } = await call('traces', Buffer.concat([body, pad]), 'grpc-big');
    expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await tracesIn('grpc-big')).toHaveLength(0);
  });

  it('answers INVALID_ARGUMENT for an invalid project', async () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(fixtureSpans('mlflow')) as Uint8Array);
    const { err } = await call('traces', body, 'not a project');
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/project/);
  });
});

describe('GenAI events as OTLP logs', () => {
  it('attach to their span in the trace detail and fill its missing inputs and outputs', async () => {
    // otel-genai's chat spans carry no messages (content capture off): send them as events instead.
    const spans = fixtureSpans('otel-genai');
    const trace = loadFacts('otel-genai').traces[0]!;
    const chat = spans.find((s) => s.spanContext().traceId === trace.trace_id && s.name.startsWith('chat'))!;
    const ctx = chat.spanContext();
    const resource = resourceFromAttributes({ 'service.name': 'sales-email-app' });
    const record = (eventName: string, body: Record<string, unknown>): ReadableLogRecord =>
      ({
        hrTime: chat.startTime,
        hrTimeObserved: chat.startTime,
        spanContext: ctx,
        severityNumber: 9,
        severityText: 'INFO',
        body,
        eventName,
        attributes: { 'gen_ai.system': 'openai', 'event.name': eventName },
        resource,
        instrumentationScope: { name: '@opentelemetry/instrumentation-openai' },
        droppedAttributesCount: 0,
      }) as unknown as ReadableLogRecord;
    const logs = [
      record('gen_ai.user.message', { content: `Write an email to ${trace.customer_name}` }),
      record('gen_ai.choice', { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Dear customer, events work.' } }),
    ];
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(logs) as Uint8Array);
    const { err } = await call('logs', body, 'events');
    expect(err).toBeNull();
    const res = await fetch(`${t.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': 'events' },
      body: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array),
    });
    expect(res.status).toBe(200);

    const d = (await getJson<TraceDetailView>(`${t.api}/api/v1/traces/${trace.trace_id}?project=events`)).body;
    const span = d.spans.find((s) => s.span_id === ctx.spanId)!;
    expect(
      span.events
        .filter((e) => e.source === 'log')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['gen_ai.choice', 'gen_ai.user.message']);
    expect(JSON.stringify(span.inputs)).toContain(trace.customer_name);
    expect(JSON.stringify(span.outputs)).toContain('events work');
  });
});
