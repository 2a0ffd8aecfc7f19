import { Metadata, Server, ServerCredentials, type ServiceDefinition, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { encodeLogsResponse, encodeTraceResponse } from '../../otlp/encode.js';
import { OTLP_PROJECT_HEADER, type IngestHandler, type OtlpSignal } from './ingest.js';
import { toOtlpFailure } from './status.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { msLeft, type Deadline } from '../../component/component.js';
import type { TlsFiles } from '../../component/net.js';
import type { Authenticator } from '../../auth/keyring.js';
import { authAnswer, authorizeExport } from './auth.js';
import type { ByteBudget } from '../../component/budget.js';
import { overBudget } from './body.js';

export interface GrpcReceiverOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  auth?: Authenticator | undefined;
  tls?: TlsFiles | null;
  /** Shared with the HTTP receiver. grpc-js has read the message when the handler runs: it is held from then. */
  budget: ByteBudget;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Messages stay as bytes through grpc-js: decoding happens in the shared ingest path, so both transports
 * decode, validate and answer identically.
 */
function exportService(pkg: string, service: string): ServiceDefinition {
  return {
    Export: {
      path: `/${pkg}.${service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

/** OTLP/gRPC receiver: TraceService/Export and LogsService/Export. */
export class GrpcReceiver {
  private server: Server | null = null;
  private boundPort = 0;

  constructor(
    private readonly opts: GrpcReceiverOptions,
    private readonly ingest: IngestHandler,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get port(): number {
    return this.boundPort || this.opts.port;
  }

  async start(): Promise<void> {
    // grpc-js refuses messages over the limit with RESOURCE_EXHAUSTED, measured after decompression.
    const server = new Server({
      'grpc.max_receive_message_length': this.opts.maxBodyBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    server.addService(exportService('opentelemetry.proto.collector.trace.v1', 'TraceService'), {
      Export: this.handler('traces'),
    });
    server.addService(exportService('opentelemetry.proto.collector.logs.v1', 'LogsService'), {
      Export: this.handler('logs'),
    });
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${this.opts.host}:${this.opts.port}`,
        this.opts.tls
          ? ServerCredentials.createSsl(null, [{ cert_chain: this.opts.tls.cert, private_key: this.opts.tls.key }], false)
          : ServerCredentials.createInsecure(),
        (err, port) => {
          if (err) reject(new Error(`cannot listen on ${this.opts.host}:${this.opts.port}: ${err.message}`));
          else resolve(port);
        },
      );
    });
    this.server = server;
    this.log.info({ port: this.boundPort }, 'OTLP/gRPC receiver listening');
  }

  private handler(signal: OtlpSignal) {
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const project = call.metadata.get(OTLP_PROJECT_HEADER)[0];
      const authorization = call.metadata.get('authorization')[0];
      const lease = this.opts.budget.tryAcquire(call.request.length);
      (lease
        ? authorizeExport(
            this.opts.auth,
            typeof authorization === 'string' ? authorization : undefined,
            typeof project === 'string' ? project : undefined,
            'grpc',
          ).then(({ project: p, guard }) => this.ingest.handle(signal, call.request, 'protobuf', p, 'grpc', lease, guard))
        : Promise.reject(overBudget())
      )
        .then((outcome) => {
          const partial = outcome.rejected > 0 ? { rejected: outcome.rejected, message: outcome.message } : null;
          callback(null, signal === 'traces' ? encodeTraceResponse(partial, 'protobuf') : encodeLogsResponse(partial, 'protobuf'));
        })
        .catch((err: unknown) => {
          const a = authAnswer(err);
          if (a) {
            const trailer = new Metadata();
            if (a.retryAfterSeconds !== undefined) trailer.set('retry-after', String(a.retryAfterSeconds));
            if (a.grpcDetails) trailer.set('grpc-status-details-bin', a.grpcDetails);
            callback({ code: a.grpcCode, details: a.message, metadata: trailer });
            return;
          }
          const f = toOtlpFailure(err);
          this.metrics.requestsFailed.inc({ transport: 'grpc', error: f.errorClass });
          const trailer = new Metadata();
          if (f.retryAfterSeconds !== undefined) trailer.set('retry-after', String(Math.ceil(f.retryAfterSeconds)));
          callback({ code: f.grpcCode, details: f.message, metadata: trailer });
        })
        .finally(() => lease?.release());
    };
  }

  async shutdown(deadline: Deadline): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, msLeft(deadline));
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
