import type { Factory } from '../component/component.js';
import type { Telemetry } from '../component/telemetry/index.js';
import type { Readiness } from '../component/telemetry/ops.js';
import { AssessmentStore } from '../assessments/store.js';
import type { ClickHouseStore } from '../exporters/clickhouse/store.js';
import { assessmentStats } from '../assessments/stats.js';
import { TraceReader } from '../query/trace-reader.js';
import { assessmentRoutes } from './assessment-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import type { ApiConfig } from './config.js';
import { ApiServer } from './server.js';

/** The JSON API over a started store: search and trace detail, assessments, health and metrics. */
export const apiFactory: Factory<ApiConfig, { store: ClickHouseStore; readiness: Readiness; telemetry: Telemetry }, ApiServer> = {
  type: 'api',
  create: (cfg, { store, readiness, telemetry }) => {
    const reader = store.reader;
    const assessments = new AssessmentStore(store.writer, reader);
    const routes = [...assessmentRoutes(assessments, (p) => assessmentStats(reader, p)), ...ingestRoutes(reader, telemetry.metrics)];
    return new ApiServer(cfg, new TraceReader(reader), telemetry.metrics, readiness, telemetry.log, routes);
  },
};
