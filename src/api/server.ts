import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { FilterSyntaxError } from '../query/filter/index.js';
import type { TraceReader } from '../query/trace-reader.js';
import { toTree, traceDetailView, traceInfoView } from './views.js';
import { ApiError } from './errors.js';
import { RawReply } from './reply.js';
import { classifyStoreError } from '../component/errors.js';
import {
  decodePageToken,
  encodePageToken,
  parseWith,
  pathSegment,
  queryObject,
  searchBodySchema,
  searchQuerySchema,
  traceIdSchema,
  traceQuerySchema,
  type SearchParams,
} from './params.js';
import { readJsonBody } from './body.js';
import type { Metrics } from '../component/telemetry/metrics.js';
import { closeServer, httpServer, listen, type TlsFiles } from '../component/net.js';
import type { Authenticator } from '../auth/keyring.js';
import { apiAuth, apiAuthError, authorizeBodyProject, principalOf, type ApiGuard, type RouteAuth } from './auth.js';
import { msLeft, Once, type Component, type Deadline } from '../component/component.js';
import { serveOps, type Readiness } from '../component/telemetry/ops.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  /** Keys, host and origin checks; none: every route is open (tests of other concerns). */
  auth?: Authenticator;
  tls?: TlsFiles | null;
}

export { principalOf, type RouteAuth };

export type Handler = (req: IncomingMessage, url: URL, match: RegExpExecArray) => Promise<unknown>;
export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /**
   * Who may call it (required, so a new route cannot forget): `public`, `key` (any valid key), or the
   * scope a key needs (`read`, `write`, `admin`) on the project the request names with `?project=`
   * (absent: the key's own). See `./auth.ts` and ARCHITECTURE.md "Authentication".
   */
  auth: RouteAuth;
  /** Status of a successful answer (200 unless said). */
  status?: number;
}

const DAY_NS = 86_400_000_000_000n;

/** The HTTP JSON API on :8080: trace search, trace detail, health and metrics. */
export class ApiServer implements Component {
  private readonly stopping = new Once();
  private server: Server | null = null;
  private readonly routes: Route[];
  private readonly guard: ApiGuard | null;

  constructor(
    private readonly opts: ApiServerOptions,
    private readonly reader: TraceReader,
    private readonly metrics: Metrics,
    private readonly readiness: Readiness,
    private readonly log: Logger,
    extraRoutes: Route[] = [],
  ) {
    this.routes = [
      {
        method: 'GET',
        pattern: /^\/api\/v1\/traces$/,
        auth: 'read',
        handler: (_req, url) => this.search(parseWith(searchQuerySchema, queryObject(url.searchParams, ['order_by']))),
      },
      // The same search with its parameters in a JSON body, so that large IN lists fit.
      {
        method: 'POST',
        pattern: /^\/api\/v1\/traces\/search$/,
        auth: 'read',
        // The project is in the body: checked there (api/auth.ts), not from ?project=.
        handler: async (req) => this.search(parseWith(searchBodySchema, authorizeBodyProject(req, await readJsonBody(req), 'read', this.opts.auth))),
      },
      { method: 'GET', pattern: /^\/api\/v1\/traces\/([^/]+)$/, auth: 'read', handler: (_req, url, m) => this.trace(url, m[1] as string) },
      ...extraRoutes,
    ];
    this.guard = opts.auth ? apiAuth(opts.auth, opts.host) : null;
  }

  /** Every route this server answers, for the auth table test. */
  get routeList(): readonly Route[] {
    return this.routes;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async start(): Promise<void> {
    const server = httpServer((req, res) => void this.dispatch(req, res), this.opts.tls ?? null);
    // Requests Node refuses before any handler runs (an over-long URL, broken HTTP) get our JSON error too.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const apiErr =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError('HEADERS_TOO_LARGE', 'the URL and headers must fit in 16 KB')
          : new ApiError('MALFORMED_REQUEST', 'the request is not valid HTTP');
      const body = JSON.stringify(apiErr.toJSON());
      socket.end(
        `HTTP/1.1 ${apiErr.status} ${apiErr.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    await listen(server, this.opts.port, this.opts.host);
    this.server = server;
    this.log.info({ port: this.port }, 'API listening');
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const guard = this.guard;
    try {
      if (guard?.preflight(req, res)) return;
      if (await serveOps(url.pathname, res, this.metrics, this.readiness)) return;
      let pathMatched = false;
      for (const route of this.routes) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (route.method !== req.method) continue;
        if (guard) await guard.check(req, url, route.auth);
        const out = await route.handler(req, url, m);
        if (out instanceof RawReply) {
          res.writeHead(out.status, { ...out.headers, 'Content-Length': Buffer.byteLength(out.body) });
          res.end(out.body);
          return;
        }
        return this.json(res, route.status ?? 200, out);
      }
      if (pathMatched) throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
      throw new ApiError('NOT_FOUND', `no route for ${url.pathname}`);
    } catch (err) {
      const apiErr = this.toApiError(err);
      if (apiErr.status >= 500) this.log.error({ err }, 'api request failed');
      if (apiErr.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      this.json(res, apiErr.status, apiErr.toJSON());
    }
  }

  private toApiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    const authErr = this.opts.auth ? apiAuthError(err) : null;
    if (authErr) return authErr;
    if (err instanceof FilterSyntaxError) {
      return new ApiError('INVALID_FILTER', err.message, { position: err.position, expected: err.expected });
    }
    // Anything else came from the store: its one classification decides the answer.
    const e = classifyStoreError(err);
    // ClickHouse rejects an RLIKE pattern that RE2 cannot compile only when the query runs.
    if (e.code === 'STORE_INVALID_REGEX') return new ApiError('INVALID_FILTER', e.message, { expected: 'an RE2 regular expression' });
    if (e.code === 'STORE_UNAVAILABLE') return new ApiError('UNAVAILABLE', e.message);
    return new ApiError('INTERNAL', 'internal error');
  }

  private async search(q: SearchParams): Promise<unknown> {
    const offset = decodePageToken(q.page_token, q.filter);
    const toNs = q.to ?? BigInt(Date.now()) * 1_000_000n + DAY_NS;
    const fromNs = q.from ?? 0n;
    if (fromNs >= toNs) throw new ApiError('INVALID_PARAMETER', '`from` must be before `to`', { parameter: 'from' });
    const result = await this.reader.search({
      project: q.project,
      fromNs,
      toNs,
      filter: q.filter,
      orderBy: q.order_by,
      maxResults: q.max_results,
      offset,
    });
    return {
      traces: result.traces.map(traceInfoView),
      next_page_token: result.nextOffset === null ? null : encodePageToken(result.nextOffset, q.filter),
    };
  }

  private async trace(url: URL, rawId: string): Promise<unknown> {
    const traceId = parseWith(traceIdSchema, pathSegment(rawId, 'trace_id').toLowerCase());
    const q = parseWith(traceQuerySchema, queryObject(url.searchParams));
    const record = await this.reader.getTraceRecord(q.project, traceId);
    if (!record) throw new ApiError('NOT_FOUND', `trace ${traceId} not found in project "${q.project}"`);
    const detail = traceDetailView(record);
    return q.tree ? { ...detail, spans: toTree(detail.spans) } : detail;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      const server = this.server;
      this.server = null;
      if (server) await closeServer(server, msLeft(deadline));
    });
  }
}
