import type { Factory } from '../component/component.js';
import type { Telemetry } from '../component/telemetry/index.js';
import type { Readiness } from '../component/telemetry/ops.js';
import { AssessmentStore } from '../assessments/store.js';
import type { ClickHouseStore } from '../exporters/clickhouse/store.js';
import { assessmentStats } from '../assessments/stats.js';
import { evaluatorStatus } from '../assessments/status.js';
import { TraceReader } from '../query/trace-reader.js';
import { assessmentRoutes } from './assessment-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import type { ApiConfig } from './config.js';
import { ApiServer } from './server.js';
import type { Authenticator } from '../auth/keyring.js';
import { KeyStore } from '../auth/store.js';
import { keyRoutes } from './key-routes.js';
import type { TlsFiles } from '../component/net.js';
import { evaluatorStatusRoutes } from './status-routes.js';
import { webUiRoutes } from './web-ui.js';
import type { Publisher } from '../component/consumer.js';
import { mlflowRoutes } from './mlflow/routes.js';
import { ExperimentStore, RunStore, TraceMetaWriter } from './mlflow/store.js';

/**
 * The JSON API over a started store: search and trace detail, assessments, keys, health and metrics, and
 * MLflow's REST API (its client's OTLP span export goes to `publisher`, the process's bus, when there is one).
 */
export const apiFactory: Factory<
  ApiConfig,
  { store: ClickHouseStore; readiness: Readiness; telemetry: Telemetry; auth: Authenticator; tls: TlsFiles | null; publisher?: Publisher },
  ApiServer
> = {
  type: 'api',
  create: (cfg, { store, readiness, telemetry, auth, tls, publisher }) => {
    const reader = store.reader;
    const assessments = new AssessmentStore(store.writer, reader);
    const traces = new TraceReader(reader);
    const mlflow = mlflowRoutes({
      reader,
      writer: store.writer,
      traces,
      assessments,
      experiments: new ExperimentStore(store.writer, reader),
      runs: new RunStore(store.writer, reader),
      meta: new TraceMetaWriter(store.writer),
      ...(publisher ? { publisher } : {}),
    });
    const routes = [
      ...assessmentRoutes(assessments, (p) => assessmentStats(reader, p)),
      ...evaluatorStatusRoutes((p) => evaluatorStatus(reader, p)),
      ...ingestRoutes(reader, telemetry.metrics),
      ...keyRoutes(new KeyStore(store.writer, reader), auth),
      ...mlflow,
      // Last: it answers every path outside /api.
      ...webUiRoutes(),
    ];
    return new ApiServer({ host: cfg.host, port: cfg.port, auth, tls }, traces, telemetry.metrics, readiness, telemetry.log, routes);
  },
};
