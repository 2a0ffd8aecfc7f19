import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/** What every factory is handed besides its config: the process's metrics registry and logger. */
export interface Telemetry {
  readonly metrics: Metrics;
  readonly log: Logger;
}
