import type { Factory } from '../component/component.js';
import type { Telemetry } from '../component/telemetry/index.js';
import type { Readiness } from '../component/telemetry/ops.js';
import { AssessmentStore } from '../assessments/store.js';
import type { ClickHouseStore } from '../exporters/clickhouse/store.js';
import { assessmentStats } from '../assessments/stats.js';
import { evaluatorStatus } from '../assessments/status.js';
import { TraceReader } from '../query/trace-reader.js';
import { assessmentRoutes } from './assessment-routes.js';
import type { ApiConfig } from './config.js';
import { ApiServer } from './server.js';
import type { Authenticator } from '../auth/keyring.js';
import { KeyStore } from '../auth/store.js';
import { keyRoutes } from './key-routes.js';
import type { TlsFiles } from '../component/net.js';
import { evaluatorStatusRoutes } from './status-routes.js';
import { webUiRoutes } from './web-ui.js';

/** The JSON API over a started store: search and trace detail, assessments, health and metrics. */
export const apiFactory: Factory<
  ApiConfig,
  { store: ClickHouseStore; readiness: Readiness; telemetry: Telemetry; auth: Authenticator; tls: TlsFiles | null },
  ApiServer
> = {
  type: 'api',
  create: (cfg, { store, readiness, telemetry, auth, tls }) => {
    const reader = store.reader;
    const assessments = new AssessmentStore(store.writer, reader);
    const routes = [
      ...assessmentRoutes(assessments, (p) => assessmentStats(reader, p)),
      ...evaluatorStatusRoutes((p) => evaluatorStatus(reader, p)),
      ...keyRoutes(new KeyStore(store.writer, reader), auth),
      // Last: it answers every path outside /api.
      ...webUiRoutes(),
    ];
    return new ApiServer({ host: cfg.host, port: cfg.port, auth, tls }, new TraceReader(reader), telemetry.metrics, readiness, telemetry.log, routes);
  },
};
