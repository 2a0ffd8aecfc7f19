import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { ExportTraceServiceResponse, RpcStatus } from '../../src/otlp/proto.js';
import { fixtureSpans } from '../helpers/fixtures.js';
import { getJson, startTestApp, type TestApp } from '../helpers/app.js';
import type { TraceInfoView } from '../../src/api/views.js';

/** OTLP/HTTP answers per the OTLP spec, and a refused request leaves nothing behind. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ overrides: { 'receivers.max_body_bytes': 256 * 1024 } });
});
afterAll(async () => {
  await t?.stop();
});

const post = (path: string, body: Buffer | string, headers: Record<string, string>): Promise<Response> =>
  fetch(`${t.otlpHttp}${path}`, { method: 'POST', body, headers });

const protoBody = (): Buffer => Buffer.from(ProtobufTraceSerializer.serializeRequest(fixtureSpans('otel-genai')) as Uint8Array);
const jsonBody = (): Buffer => Buffer.from(JsonTraceSerializer.serializeRequest(fixtureSpans('otel-genai')) as Uint8Array);

const tracesIn = async (project: string): Promise<TraceInfoView[]> => {
  const r = await getJson<{ traces: TraceInfoView[] }>(`${t.api}/api/v1/traces?project=${project}&max_results=1000`);
  expect(r.status).toBe(200);
  return r.body.traces;
};

async function statusOf(res: Response): Promise<{ code: number; message: string }> {
  const buf = Buffer.from(await res.arrayBuffer());
  if ((res.headers.get('content-type') ?? '').includes('json')) return JSON.parse(buf.toString('utf8')) as { code: number; message: string };
  return RpcStatus.toObject(RpcStatus.decode(buf), { defaults: true }) as { code: number; message: string };
}

describe('OTLP/HTTP success', () => {
  it('accepts protobuf, JSON, gzip and deflate bodies and answers in the request encoding', async () => {
    const cases: Array<[string, Buffer, Record<string, string>]> = [
      ['plain-proto', protoBody(), { 'content-type': 'application/x-protobuf' }],
      ['plain-json', jsonBody(), { 'content-type': 'application/json' }],
      ['gzip-proto', gzipSync(protoBody()), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }],
      ['deflate-json', deflateSync(jsonBody()), { 'content-type': 'application/json', 'content-encoding': 'deflate' }],
    ];
    for (const [project, body, headers] of cases) {
      const res = await post('/v1/traces', body, { ...headers, 'x-tracehouse-project': project });
      expect(res.status, project).toBe(200);
      expect(res.headers.get('content-type')).toBe(headers['content-type']);
      const payload = Buffer.from(await res.arrayBuffer());
      if (headers['content-type'] === 'application/json') expect(JSON.parse(payload.toString())).toEqual({});
      else expect(ExportTraceServiceResponse.decode(payload).toJSON()).toEqual({});
      expect(await tracesIn(project), project).toHaveLength(5);
    }
  });

  it('takes the project from the resource attribute when no header is sent', async () => {
    const req = JSON.parse(jsonBody().toString()) as { resourceSpans: Array<{ resource: { attributes: unknown[] } }> };
    for (const rs of req.resourceSpans) rs.resource.attributes.push({ key: 'tracehouse.project', value: { stringValue: 'from-resource' } });
    const res = await post('/v1/traces', JSON.stringify(req), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(await tracesIn('from-resource')).toHaveLength(5);
  });
});

describe('OTLP/HTTP partial success', () => {
  it('drops spans with bad ids, keeps the rest and says why', async () => {
    const req = JSON.parse(jsonBody().toString()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string; traceId: string }> }> }> };
    const spans = req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    // One child span with a short span id, one with a trace id of the wrong length.
    const victims = spans.filter((s) => s !== spans[0]).slice(0, 2);
    victims[0]!.spanId = 'abcd';
    victims[1]!.traceId = '0123456789';
    const res = await post('/v1/traces', JSON.stringify(req), { 'content-type': 'application/json', 'x-tracehouse-project': 'partial' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string | number; errorMessage: string } };
    expect(Number(body.partialSuccess.rejectedSpans)).toBe(2);
    expect(body.partialSuccess.errorMessage).toMatch(/span_id|trace_id/);
    const traces = await tracesIn('partial');
    expect(traces.reduce((n, x) => n + x.span_count, 0)).toBe(spans.length - 2);
  });
});

describe('OTLP/HTTP refusals write nothing', () => {
  const project = 'refused';
  const cases: Array<{ what: string; send: () => Promise<Response>; status: number }> = [
    {
      what: 'unknown path',
      status: 404,
      send: () => post('/v1/metrics', protoBody(), { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': project }),
    },
    {
      what: 'wrong method',
      status: 405,
      send: () =>
        fetch(`${t.otlpHttp}/v1/traces`, {
          method: 'PUT',
          body: protoBody(),
          headers: { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': project },
        }),
    },
    {
      what: 'unsupported content type',
      status: 415,
      send: () => post('/v1/traces', jsonBody(), { 'content-type': 'text/plain', 'x-tracehouse-project': project }),
    },
    {
      what: 'unsupported content encoding',
      status: 415,
      send: () => post('/v1/traces', protoBody(), { 'content-type': 'application/x-protobuf', 'content-encoding': 'br', 'x-tracehouse-project': project }),
    },
    {
      what: 'undecodable protobuf',
      status: 400,
      send: () =>
        post('/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': project }),
    },
    {
      what: 'malformed JSON',
      status: 400,
      send: () => post('/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json', 'x-tracehouse-project': project }),
    },
    {
      what: 'corrupt gzip',
      status: 400,
      send: () =>
        post('/v1/traces', Buffer.from('not gzip at all'), {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
          'x-tracehouse-project': project,
        }),
    },
    {
      what: 'invalid project header',
      status: 400,
      send: () => post('/v1/traces', protoBody(), { 'content-type': 'application/x-protobuf', 'x-tracehouse-project': 'bad project!' }),
    },
    {
      what: 'body over the limit',
      status: 413,
      send: () =>
        post('/v1/traces', Buffer.concat([protoBody(), Buffer.alloc(300 * 1024)]), {
          'content-type': 'application/x-protobuf',
          'x-tracehouse-project': project,
        }),
    },
    {
      // 64 MiB of zeros gzip to ~64 KiB: under the wire limit, far over it once inflated.
      what: 'gzip bomb',
      status: 413,
      send: () =>
        post('/v1/traces', gzipSync(Buffer.alloc(64 * 1024 * 1024)), {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
          'x-tracehouse-project': project,
        }),
    },
  ];

  it.each(cases)('$what → $status with a google.rpc.Status body', async ({ send, status }) => {
    const res = await send();
    expect(res.status).toBe(status);
    const s = await statusOf(res);
    expect(s.message.length).toBeGreaterThan(5);
    expect(await tracesIn(project)).toHaveLength(0);
  });

  it('does not grow the process by the inflated size of a gzip bomb', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const before = process.memoryUsage().rss;
    const res = await post('/v1/traces', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('answers JSON requests with JSON errors', async () => {
    const res = await post('/v1/traces', '{"resourceSpans": 5', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    const s = (await res.json()) as { code: number; message: string };
    expect(s.code).toBe(3);
  });
});
