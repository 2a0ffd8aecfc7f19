import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/exporters/clickhouse/client.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import { rebuildTable } from '../../src/exporters/clickhouse/rebuild.js';
import { MIGRATIONS } from '../../src/exporters/clickhouse/schema.js';
import { StoreWriter } from '../../src/exporters/clickhouse/writer.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import type { Span } from '../../src/model/otlp.js';
import { removeDir } from '../helpers/app.js';

/** Migration 7 rebuilds tables with smaller granules: rows, views and indexes must come through intact. */
let store: Store;
let dir: string;
let writer: StoreWriter;
const BEFORE_7 = MIGRATIONS.filter((m) => m.version < 7);
const SPANS_7 = MIGRATIONS.find((m) => m.version === 7)?.rebuild?.find((r) => r.table === 'spans');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracehouse-rebuild-'));
  store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir } }).store);
  await migrate(store.writer, '', BEFORE_7);
  writer = new StoreWriter(store.writer, { previewChars: 200 });
});
afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

const now = BigInt(Date.now()) * 1_000_000n;
const span = (traceId: string, spanId: string, name: string, offsetNs = 0n): Span => ({
  traceId,
  spanId,
  parentSpanId: '',
  traceState: '',
  name,
  kind: 1,
  startTimeNs: String(now + offsetNs),
  endTimeNs: String(now + offsetNs + 1000n),
  attributes: { 'gen_ai.request.model': { stringValue: 'm' }, 'input.value': { stringValue: `question ${name} é 😀` } },
  events: [],
  links: [],
  status: { code: 0, message: '' },
});
const batch = (spans: Span[]): IngestBatch => ({
  spans: [{ project: 'p', resource: { attributes: {} }, scope: { name: '', version: '' }, spans }],
  logs: [],
});
const rows = async (query: string): Promise<Array<Record<string, unknown>>> =>
  (await store.reader.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
const engine = async (table: string): Promise<string> =>
  String((await rows(`SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '${table}'`))[0]?.engine_full);

describe('migration 7: tables rebuilt with point-read granules', () => {
  it('keeps every row, index and view, takes rows inserted during the copy, and is idempotent', async () => {
    const trace = (i: number): string => i.toString(16).padStart(32, '0');
    for (let b = 0; b < 4; b++)
      await writer.consume(batch(Array.from({ length: 25 }, (_, i) => span(trace(b * 25 + i + 1), `${'a'.repeat(15)}${b}`, `s${b}-${i}`, BigInt(i)))));
    const spansBefore = await rows('SELECT * EXCEPT (start_time) FROM spans ORDER BY trace_id, span_id');
    const tracesBefore = await rows('SELECT * FROM traces ORDER BY trace_id');
    const indexBefore = await rows('SELECT * FROM span_index ORDER BY trace_id, span_id');
    expect(spansBefore).toHaveLength(100);
    expect(await engine('spans')).not.toContain('index_granularity_bytes = 1048576');

    // A crash left a half-made copy behind: the next run drops it and starts again.
    await store.writer.command({ query: 'CREATE TABLE spans_rebuild AS spans' });
    await store.writer.command({ query: 'INSERT INTO spans_rebuild SELECT * FROM spans LIMIT 7' });

    if (!SPANS_7) throw new Error('migration 7 rebuilds spans');
    // Another process writes while the copy is made: its rows must reach the rebuilt table too.
    const during = span(trace(999), 'b'.repeat(16), 'during');
    expect(await rebuildTable(store.writer, '', SPANS_7, () => writer.consume(batch([during])))).toBe('rebuilt');
    const r = await migrate(store.writer);
    expect(r.applied).toEqual([7, 8]);

    for (const t of ['spans', 'traces', 'events', 'assessments']) expect(await engine(t)).toMatch(/index_granularity_bytes = \d+/);
    expect(await engine('spans')).toContain('index_granularity_bytes = 1048576');
    expect(await rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_rebuild'")).toEqual([]);

    const spansAfter = await rows('SELECT * EXCEPT (start_time) FROM spans ORDER BY trace_id, span_id');
    expect(spansAfter).toHaveLength(101);
    expect(spansAfter.filter((s) => s.trace_id !== trace(999))).toEqual(spansBefore);
    expect(await rows('SELECT * FROM traces ORDER BY trace_id')).toEqual(expect.arrayContaining(tracesBefore));
    // The bloom filter of migration 6 is still there, and the views still follow the tables.
    expect(String((await rows('SHOW CREATE TABLE spans'))[0]?.statement)).toContain('idx_trace_id');
    await writer.consume(batch([span(trace(1000), 'c'.repeat(16), 'after')]));
    const indexAfter = await rows('SELECT * FROM span_index ORDER BY trace_id, span_id');
    expect(indexAfter.map((x) => x.trace_id)).toEqual([...indexBefore.map((x) => x.trace_id), trace(999), trace(1000)].sort());
    // Migration 8 dropped the locator and its view: writes no longer feed them.
    expect(await rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'trace_locator%'")).toEqual([]);

    // Running again changes nothing.
    expect(await rebuildTable(store.writer, '', SPANS_7)).toBe('current');
    expect(await rows('SELECT count() AS n FROM spans')).toEqual([{ n: '102' }]);
  });
});
