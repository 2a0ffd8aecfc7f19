import type { Logger } from 'pino';
import type { Publisher } from '../../component/consumer.js';
import { Once, type Component, type Deadline, type Factory } from '../../component/component.js';
import type { Telemetry } from '../../component/telemetry/index.js';
import type { OtlpReceiverConfig } from './config.js';
import { GrpcReceiver } from './grpc.js';
import { HttpReceiver } from './http.js';
import { IngestHandler } from './ingest.js';
import { ByteBudget } from '../../component/budget.js';
import type { Authenticator } from '../../auth/keyring.js';
import type { TlsFiles } from '../../component/net.js';

/** Keys and TLS of both listeners (src/auth/); none: open, plain TCP. */
export interface ReceiverSecurity {
  auth?: Authenticator;
  tls?: TlsFiles | null;
}

/**
 * The OTLP receiver, like the Collector's otlpreceiver: one component serving both protocols over one
 * ingest path, so gRPC and HTTP decode, validate and answer identically.
 */
export class OtlpReceiver implements Component {
  readonly ingest: IngestHandler;
  /** What requests hold from their first body byte until they are answered (`receivers.memory_budget_bytes`). */
  readonly budget: ByteBudget;
  private readonly grpc: GrpcReceiver | null;
  private readonly http: HttpReceiver | null;
  private readonly stopping = new Once();
  private readonly log: Logger;

  constructor(cfg: OtlpReceiverConfig, next: Publisher, telemetry: Telemetry, retentionDays = 0, security: ReceiverSecurity = {}) {
    const { metrics, log } = telemetry;
    this.log = log;
    this.ingest = new IngestHandler(next, metrics, retentionDays);
    this.budget = new ByteBudget(cfg.memory_budget_bytes, (used) => metrics.memoryBudgetBytes.set(used));
    const limits = { maxBodyBytes: cfg.max_body_bytes, budget: this.budget, auth: security.auth, tls: security.tls ?? null };
    this.grpc = cfg.grpc.enabled ? new GrpcReceiver({ ...cfg.grpc, ...limits }, this.ingest, metrics, log) : null;
    this.http = cfg.http.enabled
      ? new HttpReceiver(
          { ...cfg.http, ...limits, maxConcurrentUploads: cfg.max_concurrent_uploads, bodyTimeoutMs: cfg.body_timeout_ms },
          this.ingest,
          metrics,
          log,
        )
      : null;
  }

  /** Bound ports (the configured ones before start), null for a protocol that is off. */
  get ports(): { grpc: number | null; http: number | null } {
    return { grpc: this.grpc?.port ?? null, http: this.http?.port ?? null };
  }

  async start(): Promise<void> {
    await this.grpc?.start();
    await this.http?.start();
  }

  /**
   * Refuses new requests as retryable first (exporters resend to a live instance), then lets the ones in
   * flight finish until the deadline.
   */
  shutdown(deadline: Deadline): Promise<void> {
    return this.stopping.run(async () => {
      this.ingest.startDraining();
      const results = await Promise.allSettled([this.http?.shutdown(deadline), this.grpc?.shutdown(deadline)]);
      for (const r of results) if (r.status === 'rejected') this.log.warn({ err: r.reason as Error }, 'otlp receiver: shutdown step failed');
    });
  }
}

/** `retentionDays` is the store's: what the receiver acknowledges must stay readable there. */
export const otlpReceiverFactory: Factory<
  OtlpReceiverConfig,
  { next: Publisher; telemetry: Telemetry; retentionDays: number } & ReceiverSecurity,
  OtlpReceiver
> = {
  type: 'otlp-receiver',
  create: (cfg, { next, telemetry, retentionDays, auth, tls }) => new OtlpReceiver(cfg, next, telemetry, retentionDays, { auth, tls: tls ?? null }),
};
