import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BOOTSTRAP_KEY, createKey, waitFor } from '../helpers/auth.js';
import { fixtureSpans } from '../helpers/fixtures.js';

/** The official OTel JS exporters, configured by environment variables only, with an ingest key. */
let t: TestApp;
let secret = '';
beforeAll(async () => {
  t = await startTestApp({ overrides: { 'auth.mode': 'required', 'auth.bootstrap_admin_key': BOOTSTRAP_KEY } });
  secret = (await createKey(t.api, BOOTSTRAP_KEY, { project: 'exporters', scopes: ['ingest', 'read'] })).secret;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

type Exporter = { export(spans: ReadableSpan[], done: (r: { code: number }) => void): void; shutdown(): Promise<void> };
async function send(make: () => Exporter, env: Record<string, string>): Promise<number> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  // The exporters read the environment when they are built.
  const exporter = make();
  Object.assign(process.env, saved);
  for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  try {
    return (await new Promise<{ code: number }>((resolve) => exporter.export(fixtureSpans('vercel'), resolve))).code;
  } finally {
    await exporter.shutdown();
  }
}

const headers = (): string => `authorization=Bearer%20${secret}`;

describe('official OTel exporters with a key from OTEL_EXPORTER_OTLP_HEADERS', () => {
  it('export over http/protobuf, http/json and gRPC into the key project', async () => {
    const http = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${t.otlpHttp}/v1/traces`, OTEL_EXPORTER_OTLP_HEADERS: headers() };
    expect(await send(() => new ProtoExporter(), http)).toBe(0);
    expect(await send(() => new JsonExporter(), http)).toBe(0);
    expect(await send(() => new GrpcExporter(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: t.otlpGrpc, OTEL_EXPORTER_OTLP_HEADERS: headers() })).toBe(0);
    await waitFor(async () => {
      const res = await fetch(`${t.api}/api/v1/traces`, { headers: { authorization: `Bearer ${secret}` } });
      return ((await res.json()) as { traces: unknown[] }).traces.length > 0;
    }, 'the traces in project exporters');
  });

  it('fail without the key', async () => {
    expect(await send(() => new ProtoExporter(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${t.otlpHttp}/v1/traces` })).not.toBe(0);
    expect(await send(() => new GrpcExporter(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: t.otlpGrpc })).not.toBe(0);
  });
});
