import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Metrics } from './metrics.js';
import { closeServer, hostSchema, httpServer, listen, portSchema } from '../net.js';
import { msLeft, Once, type Component, type Deadline, type Factory } from '../component.js';
import type { Telemetry } from './index.js';

/** `telemetry`: where roles without the API answer health checks and scrapes. */
export const telemetryConfigSchema = z.object({ host: hostSchema.default('127.0.0.1'), port: portSchema.default(8888) }).strict();
export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;

/** A named dependency check; resolves true when the dependency answers. */
export type Check = () => Promise<boolean>;

export class Readiness {
  private readonly checks = new Map<string, Check>();

  add(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  async ready(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let up = false;
        try {
          up = await check();
        } catch {
          up = false;
        }
        results[name] = up ? 'ok' : 'unavailable';
        ok &&= up;
      }),
    );
    return { ok, checks: results };
  }
}

/** Answers /healthz, /readyz and /metrics; false when the path is none of them. */
export async function serveOps(pathname: string, res: ServerResponse, metrics: Metrics, readiness: Readiness): Promise<boolean> {
  if (pathname === '/healthz') {
    send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    return true;
  }
  if (pathname === '/readyz') {
    const r = await readiness.ready();
    send(res, r.ok ? 200 : 503, 'application/json', JSON.stringify({ status: r.ok ? 'ok' : 'unavailable', checks: r.checks }));
    return true;
  }
  if (pathname === '/metrics') {
    send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
    return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Health and metrics for roles without the API (receiver, writer, evaluator). */
export class TelemetryServer implements Component {
  private server: Server | null = null;
  private readonly stopping = new Once();

  constructor(
    private readonly opts: { host: string; port: number },
    private readonly metrics: Metrics,
    private readonly readiness: Readiness,
  ) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async start(): Promise<void> {
    const server = httpServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      serveOps(path, res, this.metrics, this.readiness)
        .then((served) => {
          if (!served) send(res, 404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${path}` } }));
        })
        .catch(() => send(res, 500, 'application/json', '{}'));
    });
    await listen(server, this.opts.port, this.opts.host);
    this.server = server;
  }

  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      const s = this.server;
      this.server = null;
      if (s) await closeServer(s, msLeft(deadline));
    });
  }
}

export const telemetryServerFactory: Factory<TelemetryConfig, { telemetry: Telemetry; readiness: Readiness }, TelemetryServer> = {
  type: 'telemetry',
  create: (cfg, { telemetry, readiness }) => new TelemetryServer(cfg, telemetry.metrics, readiness),
};
