import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { encodeLogsResponse, encodeStatus, encodeTraceResponse } from '../../otlp/encode.js';
import { readBody, UnsupportedEncodingError } from './body.js';
import { OTLP_PROJECT_HEADER, type IngestHandler, type OtlpSignal, type WireFormat } from './ingest.js';
import { toOtlpFailure } from './status.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { closeServer, httpServer, listen, type TlsFiles } from '../../component/net.js';
import type { Authenticator } from '../../auth/keyring.js';
import { authAnswer, authorizeExport } from './auth.js';
import { msLeft, type Deadline } from '../../component/component.js';
import type { ByteBudget, BudgetLease } from '../../component/budget.js';
import { pipelineError } from '../../component/errors.js';

export interface HttpReceiverOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  auth?: Authenticator | undefined;
  tls?: TlsFiles | null;
  /** Shared with the gRPC receiver: what requests hold from their first body byte until answered. */
  budget: ByteBudget;
  maxConcurrentUploads: number;
  bodyTimeoutMs: number;
}

const PATHS: Record<string, OtlpSignal> = { '/v1/traces': 'traces', '/v1/logs': 'logs' };
const CONTENT_TYPES: Record<string, WireFormat> = { 'application/x-protobuf': 'protobuf', 'application/json': 'json' };
/** google.rpc.Code values used in error bodies. */
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 413: 8, 415: 3, 429: 8, 503: 14 };

/** OTLP/HTTP receiver: POST /v1/traces and /v1/logs, protobuf or JSON, optionally gzip/deflate. */
export class HttpReceiver {
  private server: Server | null = null;
  private uploads = 0;

  constructor(
    private readonly opts: HttpReceiverOptions,
    private readonly ingest: IngestHandler,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async start(): Promise<void> {
    const server = httpServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'otlp/http: unexpected failure');
        if (!res.headersSent) this.fail(res, 'protobuf', 503, 'internal error', 1);
      });
    }, this.opts.tls ?? null);
    await listen(server, this.opts.port, this.opts.host);
    this.server = server;
    this.log.info({ port: this.port }, 'OTLP/HTTP receiver listening');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] as string;
    const signal = PATHS[path];
    const mime = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const format: WireFormat = CONTENT_TYPES[mime] ?? 'protobuf';
    if (!signal) return this.fail(res, format, 404, `unknown path ${path}: OTLP/HTTP serves /v1/traces and /v1/logs`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return this.fail(res, format, 405, `method ${req.method} not allowed on ${path}: use POST`);
    }
    if (!CONTENT_TYPES[mime]) {
      return this.fail(res, format, 415, `unsupported Content-Type "${mime}": use application/x-protobuf or application/json`);
    }
    const header = req.headers[OTLP_PROJECT_HEADER];
    // Authenticated before the body is read: an unauthenticated client costs no decompression.
    let authorized: Awaited<ReturnType<typeof authorizeExport>>;
    try {
      authorized = await authorizeExport(this.opts.auth, req.headers.authorization, Array.isArray(header) ? header[0] : header, 'http');
    } catch (err) {
      const a = authAnswer(err);
      if (!a) throw err;
      res.setHeader('Connection', 'close');
      if (a.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      return this.fail(res, format, a.httpStatus, a.message, a.retryAfterSeconds);
    }
    // Refused before reading a byte when too many bodies are being read or the budget is spent: a client
    // over the limits gets its answer at once instead of waiting for memory.
    if (this.uploads >= this.opts.maxConcurrentUploads) {
      return this.refuse(req, res, format, pipelineError('TOO_MANY_UPLOADS', `${this.uploads} request bodies are being read: retry later`));
    }
    const lease = this.opts.budget.tryAcquire(0) as BudgetLease;
    try {
      let body: Buffer;
      this.uploads++;
      try {
        body = await readBody(req, { maxBytes: this.opts.maxBodyBytes, lease, timeoutMs: this.opts.bodyTimeoutMs });
      } catch (err) {
        if (err instanceof UnsupportedEncodingError) return this.fail(res, format, 415, err.message);
        return this.refuse(req, res, format, err);
      } finally {
        this.uploads--;
      }
      try {
        const outcome = await this.ingest.handle(signal, body, format, authorized.project, 'http', lease, authorized.guard);
        const partial = outcome.rejected > 0 ? { rejected: outcome.rejected, message: outcome.message } : null;
        const payload = signal === 'traces' ? encodeTraceResponse(partial, format) : encodeLogsResponse(partial, format);
        this.send(res, format, 200, payload);
      } catch (err) {
        const a = authAnswer(err);
        if (a) return this.fail(res, format, a.httpStatus, a.message, a.retryAfterSeconds);
        const f = toOtlpFailure(err);
        this.metrics.requestsFailed.inc({ transport: 'http', error: f.errorClass });
        if (f.httpStatus >= 500) this.log.warn({ err: f.message }, 'otlp/http: request refused as retryable');
        this.fail(res, format, f.httpStatus, f.message, f.retryAfterSeconds);
      }
    } finally {
      lease.release();
    }
  }

  /**
   * Answers a request whose body was not (completely) read. Refused for load (budget, uploads), the rest
   * of the body is read and thrown away, so the client sees the 503 rather than a reset mid-upload and
   * the connection stays usable; nothing of it is held. Too large or too slow, the connection is closed
   * rather than drained.
   */
  private refuse(req: IncomingMessage, res: ServerResponse, format: WireFormat, err: unknown): void {
    const f = toOtlpFailure(err);
    this.metrics.requestsFailed.inc({ transport: 'http', error: f.errorClass });
    const code = (err as { code?: string }).code;
    if (f.errorClass === 'throttled') {
      req.removeAllListeners('data');
      req.resume();
    } else res.setHeader('Connection', 'close');
    const timedOut = code === 'BODY_TIMEOUT';
    this.fail(res, format, timedOut ? 408 : f.httpStatus, f.message, timedOut ? undefined : f.retryAfterSeconds);
  }

  private fail(res: ServerResponse, format: WireFormat, status: number, message: string, retryAfterSeconds?: number): void {
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
    this.send(res, format, status, encodeStatus(RPC_CODE[status] ?? 2, message, format));
  }

  private send(res: ServerResponse, format: WireFormat, status: number, payload: Buffer): void {
    res.writeHead(status, {
      'Content-Type': format === 'json' ? 'application/json' : 'application/x-protobuf',
      'Content-Length': payload.length,
    });
    res.end(payload);
  }

  async shutdown(deadline: Deadline): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await closeServer(server, msLeft(deadline));
  }
}
