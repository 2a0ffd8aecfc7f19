import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { InlineBus } from '../bus/inline.js';
import { StoreWriter } from '../write/store-writer.js';
import { openStore, type Store } from '../store/client.js';
import { applyRetention, migrate } from '../store/migrate.js';
import { IngestHandler } from '../receive/ingest.js';
import { HttpReceiver } from '../receive/http-receiver.js';
import { GrpcReceiver } from '../receive/grpc-receiver.js';
import { TraceReader } from '../query/trace-reader.js';
import { ApiServer } from '../api/server.js';
import { Metrics } from './metrics.js';
import { AssessmentStore } from '../assessments/store.js';
import { assessmentRoutes } from '../api/assessment-routes.js';

export interface RunningApp {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly ports: { grpc: number | null; http: number | null; api: number | null };
  shutdown(): Promise<void>;
}

/**
 * The all-in-one product: store, writer, inline bus, API and receivers, started in graph order so that
 * nothing is accepted before the stage that will hold it is up, and stopped in reverse: receivers
 * first (answering 503/UNAVAILABLE while the bus drains), then the bus flushes, then the store closes.
 */
export async function startApp(config: Readonly<Config>, log: Logger): Promise<RunningApp> {
  const metrics = new Metrics();
  const store = await openStore(config.store);
  const stops: Array<() => Promise<void>> = [() => store.close()];
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
    const m = await migrate(store.writer);
    if (m.applied.length) log.info({ applied: m.applied }, 'schema migrated');
    await applyRetention(store.writer, config.store.retention_days);

    const writer = new StoreWriter(store.writer, { previewChars: config.writer.preview_chars }, metrics);
    const bus = new InlineBus(writer, {
      maxItems: config.writer.batch_max_spans,
      maxWaitMs: config.writer.batch_max_wait_ms,
      maxPendingItems: config.writer.batch_max_spans * 10,
    });
    stops.push(() => bus.shutdown());
    const ingest = new IngestHandler(bus, metrics);

    const readiness = {
      async ready() {
        try {
          await store.reader.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
          return { ok: true, checks: { store: 'ok' } };
        } catch (err) {
          return { ok: false, checks: { store: (err as Error).message } };
        }
      },
    };
    let api: ApiServer | null = null;
    if (config.api.enabled) {
      const assessments = new AssessmentStore(store.writer, store.reader);
      api = new ApiServer(config.api, new TraceReader(store.reader), metrics, readiness, log, assessmentRoutes(assessments));
      await api.start();
      const a = api;
      stops.push(() => a.shutdown());
    }
    let http: HttpReceiver | null = null;
    let grpc: GrpcReceiver | null = null;
    const opts = { maxBodyBytes: config.receivers.max_body_bytes };
    if (config.receivers.grpc.enabled) {
      grpc = new GrpcReceiver({ ...config.receivers.grpc, ...opts }, ingest, metrics, log);
      await grpc.start();
      const g = grpc;
      stops.push(() => g.shutdown());
    }
    if (config.receivers.http.enabled) {
      http = new HttpReceiver({ ...config.receivers.http, ...opts }, ingest, metrics, log);
      await http.start();
      const h = http;
      stops.push(() => h.shutdown());
    }
    // Runs first on shutdown: requests still arriving are refused as retryable while the rest drains.
    stops.push(async () => ingest.startDraining());

    let stopped: Promise<void> | null = null;
    return {
      config,
      store,
      ports: { grpc: grpc?.port ?? null, http: http?.port ?? null, api: api?.port ?? null },
      shutdown: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
