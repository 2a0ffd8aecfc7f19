import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { classifyStoreError } from '../../component/errors.js';
import { insertText } from './insert.js';
import type { Consumer, IngestBatch } from '../../component/consumer.js';
import type { Component, Factory } from '../../component/component.js';
import type { Telemetry } from '../../component/telemetry/index.js';
import type { ClickHouseStore } from './store.js';
import type { WriterConfig } from './config.js';
import { buildEventRows, buildSpanRow, buildTraceRows, flattenAttributes } from './rows.js';
import type { EventRow, SpanRow, TraceRow } from './tables.js';
import { IngestCounters } from './ingest-counters.js';
import type { Metrics } from '../../component/telemetry/metrics.js';
import { EVENTS_ROWBINARY, SPANS_ROWBINARY, TRACES_ROWBINARY, encodeChunks, type RowBinaryTable } from './rowbinary.js';
import { FileJournal, type JournaledWrite } from './file-journal.js';
import { StoreSetupError } from './client.js';

export interface StoreWriterOptions {
  previewChars: number;
  /** Bytes of row text per insert statement, at most (a single larger row goes alone). */
  insertChunkBytes?: number;
  /** Count the ingest report's tracehouse_ingest_* metrics (needs `metrics`). */
  ingestReport?: boolean;
  /**
   * 'rowbinary' (embedded store only): each statement's rows are RowBinary in a file of the file journal
   * (`journalDir`), inserted with FROM INFILE. 'jsoneachrow': text statements and the `write_journal` table.
   */
  insertFormat?: InsertFormat;
  /** Where the file journal lives (embedded store: `<data dir>/write-journal`). */
  journalDir?: string;
}

export type InsertFormat = 'rowbinary' | 'jsoneachrow';

/** The tables a write inserts into, in this order: spans before the summaries that point at them. */
const WRITE_TABLES = ['spans', 'traces', 'events'] as const;
type WriteTable = (typeof WRITE_TABLES)[number];

/** One insert statement of a write: JSONEachRow lines for one table and its deduplication token. */
interface Chunk {
  table: WriteTable;
  token: string;
  text: string;
}

/** The same as RowBinary bytes. */
interface BinaryChunk {
  table: WriteTable;
  token: string;
  bytes: Buffer;
}

const ROWBINARY: { [T in WriteTable]: RowBinaryTable<T extends 'spans' ? SpanRow : T extends 'traces' ? TraceRow : EventRow> } = {
  spans: SPANS_ROWBINARY,
  traces: TRACES_ROWBINARY,
  events: EVENTS_ROWBINARY,
};

/** A path as a ClickHouse string literal. */
const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

/** A TabSeparated field: JSON lines hold no raw tabs, and their newlines and backslashes are escaped. */
const tsvField = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');

/** Rows as JSONEachRow text in pieces of at most `limit` characters (a single longer row is a piece). */
function chunkRows(rows: readonly object[], limit: number): string[] {
  const out: string[] = [];
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = JSON.stringify(row);
    if (lines.length && size + line.length + 1 > limit) {
      out.push(lines.join('\n'));
      lines = [];
      size = 0;
    }
    lines.push(line);
    size += line.length + 1;
  }
  if (lines.length) out.push(lines.join('\n'));
  return out;
}

/**
 * The write stage: normalizes a batch into rows and inserts them, all or nothing across a crash.
 *
 * A batch's rows go into several tables, and into several inserts each when large (each insert statement
 * is at most `insertChunkBytes`, so no single string grows with the batch). No engine makes those
 * atomic together, so the write is journaled first: one insert into `write_journal` (one partition, so
 * one part: it is there entirely or not at all) holds every statement's text; then the statements run;
 * then the journal partition is dropped. A process that dies in between finds the write in the journal
 * at start-up and runs it again with the same deduplication tokens before anything is served, so a
 * request is never visible half-written after a restart. A failure rejects the whole batch and the
 * caller retries it, which is harmless because repeated rows fold at query time.
 */
export class StoreWriter implements Component, Consumer {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly opts: StoreWriterOptions,
    private readonly metrics?: Metrics,
    private readonly log?: Logger,
  ) {
    this.counters = opts.ingestReport !== false && metrics ? new IngestCounters(metrics) : undefined;
    this.format = opts.insertFormat ?? 'jsoneachrow';
    if (this.format === 'rowbinary' && !opts.journalDir) throw new Error('the rowbinary insert format needs a journal directory');
    this.files = opts.journalDir ? new FileJournal(opts.journalDir) : undefined;
  }

  private readonly counters: IngestCounters | undefined;
  private readonly format: InsertFormat;
  private readonly files: FileJournal | undefined;

  async consume(batch: IngestBatch, dedupToken?: string): Promise<void> {
    const started = performance.now();
    const batchId = randomBytes(12).toString('hex');
    let spanCount = 0;
    let eventCount = 0;
    let chunks: Chunk[] | BinaryChunk[];
    {
      // Rows live only in this block: once they are text or bytes, the objects can go.
      const spanRows: SpanRow[] = [];
      for (const group of batch.spans) {
        const resourceAttrs = flattenAttributes(group.resource.attributes);
        for (const span of group.spans) spanRows.push(buildSpanRow(group, span, resourceAttrs, this.counters?.observe));
      }
      const eventRows: EventRow[] = [];
      for (const group of batch.logs) eventRows.push(...buildEventRows(group));
      const traceRows = buildTraceRows(spanRows, this.opts.previewChars);
      spanCount = spanRows.length;
      eventCount = eventRows.length;
      const limit = this.opts.insertChunkBytes ?? DEFAULT_CHUNK_BYTES;
      // A token per (batch, table, piece) makes a re-delivered batch (Kafka) or a replayed journal entry
      // a no-op insert (see design notes).
      const base = dedupToken ?? batchId;
      if (this.format === 'rowbinary') {
        const pieces = (table: WriteTable, bufs: Buffer[]): BinaryChunk[] => bufs.map((bytes, i) => ({ table, token: `${base}:${table}:${i}`, bytes }));
        chunks = [
          ...pieces('spans', encodeChunks(SPANS_ROWBINARY, spanRows, limit)),
          ...pieces('traces', encodeChunks(TRACES_ROWBINARY, traceRows, limit)),
          ...pieces('events', encodeChunks(EVENTS_ROWBINARY, eventRows, limit)),
        ];
      } else {
        const rowsOf: Record<WriteTable, readonly object[]> = { spans: spanRows, traces: traceRows, events: eventRows };
        chunks = WRITE_TABLES.flatMap((table) => chunkRows(rowsOf[table], limit).map((text, i) => ({ table, token: `${base}:${table}:${i}`, text })));
      }
    }
    if (chunks.length === 0) return;

    if (this.format === 'rowbinary') await this.writeBinary(batchId, chunks as BinaryChunk[]);
    else await this.writeText(batchId, chunks as Chunk[]);
    this.metrics?.insertSeconds.observe((performance.now() - started) / 1000);
    this.metrics?.batchSpans.observe(spanCount);
    this.metrics?.spansWritten.inc(spanCount);
    this.metrics?.eventsWritten.inc(eventCount);
    // Counted once written: a batch that failed is retried and would be counted twice.
    this.counters?.flush();
  }

  /** A failed write: counted, classified, and the ingest counters of its batch dropped. */
  private failed(err: unknown): ReturnType<typeof classifyStoreError> {
    const e = classifyStoreError(err);
    this.metrics?.writeFailures.inc({ error: e.errorClass });
    this.counters?.discard();
    return e;
  }

  private async writeText(batchId: string, chunks: readonly Chunk[]): Promise<void> {
    try {
      if (chunks.length > 1) await this.journal(batchId, chunks);
      await this.run(chunks);
    } catch (err) {
      const e = this.failed(err);
      // Some statements may have committed before the failure. A transient failure keeps the entry: if
      // the process dies before the caller's retry lands, the next start completes the write, so it is
      // never left half-visible (the retry and the replay fold into the same rows). A permanent one is
      // dropped: replaying it would fail the same way.
      if (chunks.length > 1 && e.errorClass === 'permanent') await this.finish(batchId).catch(() => undefined);
      throw e;
    }
    if (chunks.length > 1) await this.finish(batchId).catch((err: unknown) => this.log?.warn({ err, batchId }, 'write journal: cannot drop a finished write'));
  }

  /** The file journal's write: files (journaled when more than one statement), FROM INFILE inserts, cleanup. */
  private async writeBinary(batchId: string, chunks: readonly BinaryChunk[]): Promise<void> {
    const files = this.files as FileJournal;
    let w: JournaledWrite | undefined;
    try {
      w = await files.prepare(batchId, chunks, chunks.length > 1);
      await this.runFiles(w);
    } catch (err) {
      const e = this.failed(err);
      // As for the table journal: a transient failure keeps a complete write for the next start; a
      // permanent one, or one that never got journaled, is dropped.
      if (w && (chunks.length === 1 || e.errorClass === 'permanent')) await files.remove(w).catch(() => undefined);
      throw e;
    }
    await files.remove(w).catch((err: unknown) => this.log?.warn({ err, batchId }, 'write journal: cannot remove a finished write'));
  }

  private async runFiles(w: JournaledWrite): Promise<void> {
    for (const st of w.statements) {
      const table = st.table as WriteTable;
      const shape = ROWBINARY[table];
      if (!shape) throw new Error(`write journal: unknown table ${st.table}`);
      await this.client.command({
        query: `INSERT INTO ${table} (${shape.columns.join(', ')}) FROM INFILE ${sqlString(join(w.dir, st.file))} FORMAT RowBinary`,
        clickhouse_settings: { insert_deduplication_token: st.token },
      });
    }
  }

  /** One insert, one part: the journal holds every statement of the write or none. */
  private async journal(batchId: string, chunks: readonly Chunk[]): Promise<void> {
    const text = chunks.map((c, i) => `${batchId}\t${i}\t${c.table}\t${tsvField(c.token)}\t${tsvField(c.text)}`).join('\n');
    await insertText(this.client, 'write_journal', text, 'TabSeparated');
  }

  private async run(chunks: readonly Chunk[]): Promise<void> {
    for (const c of chunks) await insertText(this.client, c.table, c.text, 'JSONEachRow', c.token);
  }

  private async finish(batchId: string): Promise<void> {
    // batchId is our own hex: safe to quote.
    await this.client.command({ query: `ALTER TABLE write_journal DROP PARTITION '${batchId}'` });
  }

  /**
   * Replays the writes a crash interrupted, before this process accepts anything. Their requests were
   * not acknowledged; after this each is in the store entirely, as if it had committed just before.
   */
  async start(): Promise<void> {
    const rs = await this.client.query({ query: 'SELECT DISTINCT batch_id FROM write_journal', format: 'JSONEachRow' });
    const ids = (await rs.json<{ batch_id: string }>()).map((r) => r.batch_id);
    for (const id of ids) {
      const rows = await (
        await this.client.query({
          query: 'SELECT seq, tbl, token, body FROM write_journal WHERE batch_id = {id:String} ORDER BY seq',
          query_params: { id },
          format: 'JSONEachRow',
        })
      ).json<{ seq: number; tbl: string; token: string; body: string }>();
      const chunks = rows
        .filter((r): r is typeof r & { tbl: WriteTable } => (WRITE_TABLES as readonly string[]).includes(r.tbl))
        .map((r) => ({ table: r.tbl, token: r.token, text: r.body }));
      try {
        await this.run(chunks);
      } catch (err) {
        const e = classifyStoreError(err);
        if (e.errorClass !== 'permanent') throw e;
        this.log?.error({ err: e.message, batchId: id }, 'write journal: the store refuses an interrupted write; dropping it');
      }
      await this.finish(id);
      this.log?.info({ batchId: id, statements: chunks.length }, 'write journal: completed a write interrupted by a crash');
    }
    if (!this.files) return;
    const writes = await this.files.recover((id, err) => this.log?.error({ err, batchId: id }, 'write journal: unreadable journaled write; dropping it'));
    for (const w of writes) {
      try {
        await this.runFiles(w);
      } catch (err) {
        const e = classifyStoreError(err);
        if (e.errorClass !== 'permanent') throw e;
        this.log?.error({ err: e.message, batchId: w.id }, 'write journal: the store refuses an interrupted write; dropping it');
      }
      await this.files.remove(w);
      this.log?.info({ batchId: w.id, statements: w.statements.length }, 'write journal: completed a write interrupted by a crash');
    }
  }

  async shutdown(): Promise<void> {
    // Nothing to release; a batch in flight belongs to the bus that handed it over, which waits for it.
  }
}

/** The write stage over a started store's insert connection. */
export const storeWriterFactory: Factory<WriterConfig, { store: ClickHouseStore; telemetry: Telemetry }, StoreWriter> = {
  type: 'store-writer',
  create: (cfg, { store, telemetry }) => {
    // RowBinary is read from a file by the embedded engine; a server would need the body sent instead.
    const insertFormat = cfg.insert_format ?? (store.kind === 'embedded' ? 'rowbinary' : 'jsoneachrow');
    if (insertFormat === 'rowbinary' && store.kind !== 'embedded') {
      throw new StoreSetupError('writer.insert_format rowbinary needs the embedded store; use jsoneachrow with a ClickHouse server');
    }
    return new StoreWriter(
      store.writer,
      {
        previewChars: cfg.preview_chars,
        insertChunkBytes: cfg.batch_max_bytes,
        ingestReport: cfg.ingest_report,
        insertFormat,
        ...(store.dataDir !== undefined ? { journalDir: join(store.dataDir, 'write-journal') } : {}),
      },
      telemetry.metrics,
      telemetry.log,
    );
  },
};
