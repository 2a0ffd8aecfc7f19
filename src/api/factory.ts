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
import { evaluatorStatusRoutes } from './status-routes.js';
import { webUiRoutes } from './web-ui.js';

/** The JSON API over a started store: search and trace detail, assessments, health and metrics. */
export const apiFactory: Factory<ApiConfig, { store: ClickHouseStore; readiness: Readiness; telemetry: Telemetry }, ApiServer> = {
  type: 'api',
  create: (cfg, { store, readiness, telemetry }) => {
    const reader = store.reader;
    const assessments = new AssessmentStore(store.writer, reader);
    const routes = [
      ...assessmentRoutes(assessments, (p) => assessmentStats(reader, p)),
      ...evaluatorStatusRoutes((p) => evaluatorStatus(reader, p)),
      // Last: it answers every path outside /api.
      ...webUiRoutes(),
    ];
    return new ApiServer(cfg, new TraceReader(reader), telemetry.metrics, readiness, telemetry.log, routes);
  },
};
