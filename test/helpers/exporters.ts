import { Metadata } from '@grpc/grpc-js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';

export type ExporterKind = 'proto' | 'json' | 'grpc';

interface SpanExporterLike {
  export(spans: ReadableSpan[], done: (r: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** Sends spans with one of the official OTel JS exporters and resolves with its export result. */
export async function exportSpans(
  kind: ExporterKind,
  endpoint: { http: string; grpc: string },
  spans: ReadableSpan[],
  project?: string,
): Promise<{ code: number; error?: Error }> {
  const headers: Record<string, string> = project ? { 'x-tracehouse-project': project } : {};
  let exporter: SpanExporterLike;
  if (kind === 'grpc') {
    const metadata = new Metadata();
    if (project) metadata.set('x-tracehouse-project', project);
    exporter = new GrpcExporter({ url: endpoint.grpc, metadata });
  } else if (kind === 'proto') {
    exporter = new ProtoExporter({ url: `${endpoint.http}/v1/traces`, headers });
  } else {
    exporter = new JsonExporter({ url: `${endpoint.http}/v1/traces`, headers });
  }
  try {
    return await new Promise((resolve) => exporter.export(spans, resolve));
  } finally {
    await exporter.shutdown();
  }
}
