import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  readonly authFailures = new Counter({
    name: 'tracehouse_auth_failures_total',
    help: 'Requests refused by authentication, by listener (api, http, grpc) and reason (no_key, bad_key, revoked, expired, wrong_project, wrong_scope)',
    labelNames: ['listener', 'reason'] as const,
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
  // The ingest report's counters: labels are a convention (one of CONVENTIONS) and a fixed field name.
  readonly ingestSpans = new Counter({
    name: 'tracehouse_ingest_spans_total',
    help: 'Spans written, by the GenAI convention they were mapped from',
    labelNames: ['convention'] as const,
    registers: [this.registry],
  });
  readonly ingestLlmIncomplete = new Counter({
    name: 'tracehouse_ingest_llm_spans_incomplete_total',
    help: 'LLM spans written without a model, token counts or content (missing: model, tokens, content)',
    labelNames: ['convention', 'missing'] as const,
    registers: [this.registry],
  });
  readonly ingestUnmappedAttributes = new Counter({
    name: 'tracehouse_ingest_unmapped_attributes_total',
    help: 'Span attributes no mapping read (the keys are in GET /api/v1/ingest/report)',
    labelNames: ['convention'] as const,
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

  readonly memoryBudgetBytes = new Gauge({
    name: 'tracehouse_memory_budget_used_bytes',
    help: 'Bytes held on behalf of OTLP clients (receivers.memory_budget_bytes is the limit)',
    registers: [this.registry],
  });
  readonly busInflightBytes = new Gauge({
    name: 'tracehouse_bus_inflight_bytes',
    help: 'Request bytes produced to Kafka and not yet acknowledged',
    registers: [this.registry],
  });
  readonly batchSpans = new Histogram({
    name: 'tracehouse_write_batch_spans',
    help: 'Spans per insert batch',
    buckets: [1, 10, 100, 500, 1000, 5000, 10_000, 50_000],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'tracehouse_consumer_lag_messages',
    help: 'Messages between the committed offset and the end of each partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly consumerCrashes = new Counter({
    name: 'tracehouse_consumer_crashes_total',
    help: 'Kafka consumer crashes, by consumer group; each is logged with its cause and followed by a restart with backoff',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly consumerUp = new Gauge({
    name: 'tracehouse_consumer_up',
    help: 'Whether the Kafka consumer of each group is joined and consuming (1) or down and restarting (0)',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'tracehouse_dead_lettered_total',
    help: 'Kafka messages moved to the dead-letter topic, by reason (UNDECODABLE_MESSAGE: not OTLP, or in a batch that could not be decompressed; STORE_REJECTED: refused by the store as invalid)',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });
  readonly evalTracesScored = new Counter({
    name: 'tracehouse_evaluator_traces_scored_total',
    help: 'Traces the evaluator scored',
    registers: [this.registry],
  });
  readonly evalAssessments = new Counter({
    name: 'tracehouse_evaluator_assessments_total',
    help: 'Assessments written by scorers, by scorer and outcome (ok or error)',
    labelNames: ['scorer', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly evalAssessmentsRefused = new Counter({
    name: 'tracehouse_evaluator_assessments_refused_total',
    help: 'Assessments the store refused as invalid: not retried, not stored',
    labelNames: ['scorer'] as const,
    registers: [this.registry],
  });
  readonly evalOverflow = new Counter({
    name: 'tracehouse_evaluator_overflow_total',
    help: 'Sampled traces not scored because max_pending_traces were already waiting',
    registers: [this.registry],
  });
  readonly evalPending = new Gauge({
    name: 'tracehouse_evaluator_pending_traces',
    help: 'Sampled traces waiting for their spans to settle',
    registers: [this.registry],
  });
  readonly evalQueued = new Gauge({
    name: 'tracehouse_evaluator_queued_traces',
    help: 'Traces ready to score, waiting for a free scorer slot',
    registers: [this.registry],
  });
  readonly evalLag = new Gauge({
    name: 'tracehouse_evaluator_lag_seconds',
    help: 'How long the oldest ready trace has waited to be scored',
    registers: [this.registry],
  });
  readonly judgeTokens = new Counter({
    name: 'tracehouse_judge_tokens_total',
    help: 'Tokens used by LLM judge calls, by model and direction',
    labelNames: ['model', 'direction'] as const,
    registers: [this.registry],
  });
  readonly judgeCost = new Counter({
    name: 'tracehouse_judge_cost_usd_total',
    help: 'Cost of LLM judge calls in USD, where the model price is known',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tracehouse_' });
  }
}
