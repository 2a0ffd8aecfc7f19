import type { ClickHouseClient } from '@clickhouse/client';
import { classifyStoreError } from '../../component/errors.js';
import { insertRows } from './insert.js';
import type { Consumer, IngestBatch } from '../../component/consumer.js';
import type { Component, Factory } from '../../component/component.js';
import type { Telemetry } from '../../component/telemetry/index.js';
import type { ClickHouseStore } from './store.js';
import type { WriterConfig } from './config.js';
import { buildEventRows, buildSpanRow, buildTraceRows, flattenAttributes } from './rows.js';
import type { EventRow, SpanRow } from './tables.js';
import { IngestCounters } from './ingest-counters.js';
import type { Metrics } from '../../component/telemetry/metrics.js';

export interface StoreWriterOptions {
  previewChars: number;
  /** Count the ingest report's tracehouse_ingest_* metrics (needs `metrics`). */
  ingestReport?: boolean;
}

/**
 * The write stage: normalizes a batch into rows and inserts them. Spans go in before trace summaries, so
 * a summary never points at spans that are not there; a failure anywhere rejects the whole batch and the
 * caller retries it, which is harmless because repeated rows fold at query time.
 */
export class StoreWriter implements Component, Consumer {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly opts: StoreWriterOptions,
    private readonly metrics?: Metrics,
  ) {
    this.counters = opts.ingestReport !== false && metrics ? new IngestCounters(metrics) : undefined;
  }

  private readonly counters: IngestCounters | undefined;

  async consume(batch: IngestBatch, dedupToken?: string): Promise<void> {
    const spanRows: SpanRow[] = [];
    for (const group of batch.spans) {
      const resourceAttrs = flattenAttributes(group.resource.attributes);
      for (const span of group.spans) spanRows.push(buildSpanRow(group, span, resourceAttrs, this.counters?.observe));
    }
    const eventRows: EventRow[] = [];
    for (const group of batch.logs) eventRows.push(...buildEventRows(group));
    const traceRows = buildTraceRows(spanRows, this.opts.previewChars);

    const started = performance.now();
    try {
      if (spanRows.length) await this.insert('spans', spanRows, dedupToken);
      if (traceRows.length) await this.insert('traces', traceRows, dedupToken);
      if (eventRows.length) await this.insert('events', eventRows, dedupToken);
    } catch (err) {
      this.counters?.discard();
      this.metrics?.writeFailures.inc({ error: classifyStoreError(err).errorClass });
      throw classifyStoreError(err);
    }
    this.metrics?.insertSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.batchSpans.observe(spanRows.length);
    this.metrics?.spansWritten.inc(spanRows.length);
    this.metrics?.eventsWritten.inc(eventRows.length);
    // Counted once written: a batch that failed is retried and would be counted twice.
    this.counters?.flush();
  }

  private async insert(table: string, values: object[], dedupToken: string | undefined): Promise<void> {
    // A token per (batch, table) makes a re-delivered batch a no-op insert (see design notes).
    await insertRows(this.client, table, values, dedupToken ? `${dedupToken}:${table}` : '');
  }

  async start(): Promise<void> {
    // Holds no resources of its own: the store it writes through was started before it.
  }

  async shutdown(): Promise<void> {
    // Nothing to release; a batch in flight belongs to the bus that handed it over, which waits for it.
  }
}

/** The write stage over a started store's insert connection. */
export const storeWriterFactory: Factory<WriterConfig, { store: ClickHouseStore; telemetry: Telemetry }, StoreWriter> = {
  type: 'store-writer',
  create: (cfg, { store, telemetry }) => new StoreWriter(store.writer, { previewChars: cfg.preview_chars, ingestReport: cfg.ingest_report }, telemetry.metrics),
};
