import { type ChannelOptions, credentials, type ChannelCredentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;
const raw = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** An OTLP/gRPC client that sends and receives raw bytes, so a test can send any body, malformed ones included. */
const OtlpRawClient = makeGenericClientConstructor(
  {
    traces: raw('/opentelemetry.proto.collector.trace.v1.TraceService/Export'),
    logs: raw('/opentelemetry.proto.collector.logs.v1.LogsService/Export'),
  },
  'OtlpRaw',
);

export interface GrpcExportOptions {
  /** Metadata to send (e.g. `x-tracehouse-project`, `authorization`). */
  metadata?: Record<string, string>;
  creds?: ChannelCredentials;
  channel?: ChannelOptions;
}

/** One raw OTLP/gRPC export to `target` (`host:port`, optionally with `http(s)://`); resolves with the error or the response bytes. */
export function grpcExport(
  target: string,
  method: 'traces' | 'logs',
  body: Buffer,
  { metadata = {}, creds = credentials.createInsecure(), channel = {} }: GrpcExportOptions = {},
): Promise<{ err: ServiceError | null; res?: Buffer }> {
  const client = new OtlpRawClient(target.replace(/^https?:\/\//, ''), creds, channel);
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    (client[method] as (b: Buffer, m: Metadata, cb: (e: ServiceError | null, r?: Buffer) => void) => void)(body, md, (err, res) => {
      client.close();
      resolve({ err, res });
    });
  });
}
