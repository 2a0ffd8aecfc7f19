import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { InlineBus } from '../bus/inline/bus.js';
import { FanOut } from '../component/fan-out.js';
import type { Publisher } from '../component/consumer.js';
import { KafkaProducerBus } from '../bus/kafka/producer-bus.js';
import { KafkaWriter } from '../bus/kafka/writer.js';
import { KafkaEvaluatorSource, type SpanPosition } from '../bus/kafka/evaluator-source.js';
import { StoreWriter } from '../exporters/clickhouse/writer.js';
import { openStore, type Store } from '../exporters/clickhouse/client.js';
import { applyRetention, migrate } from '../exporters/clickhouse/migrate.js';
import { IngestHandler } from '../receivers/otlp/ingest.js';
import { HttpReceiver } from '../receivers/otlp/http.js';
import { GrpcReceiver } from '../receivers/otlp/grpc.js';
import { TraceReader } from '../query/trace-reader.js';
import { assessmentStats } from '../query/assessment-stats.js';
import { ApiServer } from '../api/server.js';
import { assessmentRoutes } from '../api/assessment-routes.js';
import { AssessmentStore } from '../assessments/store.js';
import { Evaluator } from '../evaluate/evaluator.js';
import { createScorers } from '../evaluate/scorers/index.js';
import { Metrics } from '../component/telemetry/metrics.js';
import { Readiness, TelemetryServer } from '../component/telemetry/ops.js';
import { startupError } from '../component/errors.js';

export const ROLES = ['receiver', 'writer', 'evaluator', 'api'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningApp {
  readonly config: Readonly<Config>;
  readonly roles: readonly Role[];
  readonly store: Store | null;
  readonly evaluator: Evaluator<SpanPosition> | null;
  readonly metrics: Metrics;
  readonly ports: { grpc: number | null; http: number | null; api: number | null; telemetry: number | null };
  shutdown(): Promise<void>;
}

export class RoleConfigError extends startupError('ROLE_CONFIG_INVALID') {
  override name = 'RoleConfigError';
}

/**
 * Assembles the requested roles from one config, the way a Collector builds its pipeline: start in graph
 * order (store, writer, evaluator, bus, API, receivers), so nothing is accepted before the stage that will
 * hold it is up; stop in reverse, receivers first (answering 503/UNAVAILABLE while the rest drains).
 * On the inline bus every role shares one process; on Kafka any subset runs alone.
 */
export async function startApp(config: Readonly<Config>, log: Logger, roles: readonly Role[] = ROLES): Promise<RunningApp> {
  const kafka = config.bus.kind === 'kafka';
  if (!kafka && roles.length !== ROLES.length) {
    throw new RoleConfigError(
      `the ${roles.join(', ')} role(s) alone need the Kafka bus (bus.kind: kafka, or --bus kafka); the inline bus runs everything in one process: use "tracehouse start"`,
    );
  }
  const has = (r: Role): boolean => roles.includes(r);
  const metrics = new Metrics();
  const readiness = new Readiness();
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse().splice(0)) {
      try {
        await stop();
      } catch (err) {
        log.error({ err }, 'shutdown step failed');
      }
    }
  };

  try {
    const needsStore = !kafka || has('writer') || has('evaluator') || has('api');
    let store: Store | null = null;
    if (needsStore) {
      const s = await openStore(config.store);
      store = s;
      stops.push(() => s.close());
      if (config.store.migrate_on_start) {
        const m = await migrate(s.writer, config.store.cluster);
        if (m.applied.length) log.info({ applied: m.applied }, 'schema migrated');
        await applyRetention(s.writer, config.store.retention_days, config.store.cluster);
      }
      readiness.add('store', async () => {
        await (await s.reader.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
        return true;
      });
    }
    const writer = store ? new StoreWriter(store.writer, { previewChars: config.writer.preview_chars }, metrics) : null;
    const reader = store ? new TraceReader(store.reader) : null;
    const assessments = store ? new AssessmentStore(store.writer, store.reader) : null;

    if (kafka && has('writer') && writer) {
      const kw = new KafkaWriter(config.bus.kafka, writer, { batchMaxItems: config.writer.batch_max_spans }, metrics, log);
      await kw.start();
      stops.push(() => kw.shutdown());
      readiness.add('kafka-consumer', () => kw.ready());
    }

    let evaluator: Evaluator<SpanPosition> | null = null;
    const scorersWanted = config.evaluator.enabled && config.evaluator.scorers.length > 0 && has('evaluator');
    if (scorersWanted && reader && assessments) {
      const scorers = await createScorers(config.evaluator, process.cwd());
      const ev = new Evaluator<SpanPosition>(config.evaluator, { reader, store: assessments, scorers, metrics, log });
      evaluator = ev;
      ev.start();
      stops.push(() => ev.shutdown());
      if (kafka) {
        const source = new KafkaEvaluatorSource(config.bus.kafka, ev, log);
        await source.start();
        stops.push(() => source.shutdown());
      }
      log.info({ scorers: scorers.map((s) => s.scorer.name) }, 'evaluator started');
    }

    let publisher: Publisher | null = null;
    if (!kafka && writer) {
      const bus = new InlineBus(evaluator ? new FanOut(writer, [evaluator]) : writer, {
        maxItems: config.writer.batch_max_spans,
        maxWaitMs: config.writer.batch_max_wait_ms,
        maxPendingItems: config.writer.batch_max_spans * 10,
      });
      publisher = bus;
      stops.push(() => bus.shutdown());
    } else if (kafka && has('receiver')) {
      const bus = new KafkaProducerBus(config.bus.kafka, metrics, log);
      await bus.start();
      publisher = bus;
      stops.push(() => bus.shutdown());
      readiness.add('kafka', () => bus.ready());
    }

    let api: ApiServer | null = null;
    if (has('api') && config.api.enabled && reader && assessments && store) {
      const s = store;
      const a = new ApiServer(config.api, reader, metrics, readiness, log, assessmentRoutes(assessments, (p) => assessmentStats(s.reader, p)));
      await a.start();
      api = a;
      stops.push(() => a.shutdown());
    }

    let http: HttpReceiver | null = null;
    let grpc: GrpcReceiver | null = null;
    if (has('receiver') && publisher) {
      const ingest = new IngestHandler(publisher, metrics);
      const opts = { maxBodyBytes: config.receivers.max_body_bytes };
      if (config.receivers.grpc.enabled) {
        const g = new GrpcReceiver({ ...config.receivers.grpc, ...opts }, ingest, metrics, log);
        await g.start();
        grpc = g;
        stops.push(() => g.shutdown());
      }
      if (config.receivers.http.enabled) {
        const h = new HttpReceiver({ ...config.receivers.http, ...opts }, ingest, metrics, log);
        await h.start();
        http = h;
        stops.push(() => h.shutdown());
      }
      // Runs first on shutdown: requests still arriving are refused as retryable while the rest drains.
      stops.push(async () => ingest.startDraining());
    }

    // Roles without the API still answer health checks and scrapes, on the telemetry port.
    let telemetry: TelemetryServer | null = null;
    if (!api) {
      const t = new TelemetryServer(config.telemetry, metrics, readiness);
      await t.start();
      telemetry = t;
      stops.push(() => t.shutdown());
    }

    let stopped: Promise<void> | null = null;
    return {
      config,
      roles,
      store,
      evaluator,
      metrics,
      ports: { grpc: grpc?.port ?? null, http: http?.port ?? null, api: api?.port ?? null, telemetry: telemetry?.port ?? null },
      shutdown: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
