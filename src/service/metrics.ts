import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Pipeline counters (received / refused / written / failed), each with a bounded label set. */
export class Metrics {
  readonly registry = new Registry();
  readonly spansReceived = new Counter({
    name: 'tracehouse_spans_received_total',
    help: 'Spans in OTLP requests that decoded',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly spansRefused = new Counter({
    name: 'tracehouse_spans_refused_total',
    help: 'Spans answered with an error or rejected through partial success',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly logsReceived = new Counter({
    name: 'tracehouse_log_records_received_total',
    help: 'Log records in OTLP requests that decoded',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly requestsFailed = new Counter({
    name: 'tracehouse_otlp_requests_failed_total',
    help: 'OTLP requests answered with an error, by error class',
    labelNames: ['transport', 'error'] as const,
    registers: [this.registry],
  });
  readonly spansWritten = new Counter({
    name: 'tracehouse_spans_written_total',
    help: 'Span rows inserted into the store',
    registers: [this.registry],
  });
  readonly eventsWritten = new Counter({
    name: 'tracehouse_events_written_total',
    help: 'GenAI event rows (from OTLP logs) inserted into the store',
    registers: [this.registry],
  });
  readonly writeFailures = new Counter({
    name: 'tracehouse_write_failures_total',
    help: 'Failed write batches, by error class',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'tracehouse_insert_seconds',
    help: 'Time to insert one write batch',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tracehouse_' });
  }
}
