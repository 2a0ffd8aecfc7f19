import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore, type Store } from '../../src/exporters/clickhouse/client.js';
import { migrate } from '../../src/exporters/clickhouse/migrate.js';
import { StoreWriter } from '../../src/exporters/clickhouse/writer.js';
import { AssessmentStore } from '../../src/assessments/store.js';
import type { IngestBatch } from '../../src/component/consumer.js';
import type { Span } from '../../src/model/otlp.js';
import { removeDir } from '../helpers/app.js';

/** Insert deduplication on the real embedded engine: what the Kafka writer's redelivery safety rests on. */
let store: Store;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracehouse-dedup-'));
  store = await openStore(loadConfig({ env: {}, overrides: { 'store.path': dir } }).store);
  await migrate(store.writer);
});
afterAll(async () => {
  await store?.close();
  removeDir(dir);
});

const span = (traceId: string, spanId: string, name: string): Span => ({
  traceId,
  spanId,
  parentSpanId: '',
  traceState: '',
  name,
  kind: 1,
  startTimeNs: String(BigInt(Date.now()) * 1_000_000n),
  endTimeNs: String(BigInt(Date.now()) * 1_000_000n + 1000n),
  attributes: {},
  events: [],
  links: [],
  status: { code: 0, message: '' },
});
const batch = (project: string, spans: Span[]): IngestBatch => ({
  spans: [{ project, resource: { attributes: {} }, scope: { name: '', version: '' }, spans }],
  logs: [],
});
const rawSpanRows = async (project: string): Promise<number> => {
  const rs = await store.reader.query({
    query: 'SELECT count() AS n FROM spans WHERE project = {p:String}',
    query_params: { p: project },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]?.n);
};

describe('insert deduplication', () => {
  it('stores a batch re-delivered with the same token once, and a batch with another token again', async () => {
    const w = new StoreWriter(store.writer, { previewChars: 100 });
    const b = (): IngestBatch => batch('dedup', [span('11111111111111111111111111111111', '1111111111111111', 'a')]);
    await w.consume(b(), 'spans:0:0-9');
    await w.consume(b(), 'spans:0:0-9');
    await w.consume(b(), 'spans:0:0-9');
    expect(await rawSpanRows('dedup')).toBe(1);
    // The search index fed by a materialized view skips the repeated block too.
    const indexed = await store.reader.query({ query: "SELECT count() AS n FROM span_index WHERE project = 'dedup'", format: 'JSONEachRow' });
    expect(Number((await indexed.json<{ n: string }>())[0]?.n)).toBe(1);
    await w.consume(batch('dedup', [span('11111111111111111111111111111111', '2222222222222222', 'b')]), 'spans:0:10-19');
    expect(await rawSpanRows('dedup')).toBe(2);
  });

  it('does not let a token carry over to later inserts without one (chDB keeps settings per session)', async () => {
    const w = new StoreWriter(store.writer, { previewChars: 100 });
    await w.consume(batch('carry', [span('33333333333333333333333333333333', '3333333333333333', 'x')]), 'spans:1:0-0');
    // Inline-bus writes and assessments carry no token: each must be stored.
    await w.consume(batch('carry', [span('33333333333333333333333333333333', '4444444444444444', 'y')]));
    await w.consume(batch('carry', [span('33333333333333333333333333333333', '5555555555555555', 'z')]));
    expect(await rawSpanRows('carry')).toBe(3);
    const assessments = new AssessmentStore(store.writer, store.reader);
    const base = {
      project: 'carry',
      traceId: '33333333333333333333333333333333',
      spanId: '',
      kind: 'feedback' as const,
      rationale: '',
      sourceType: 'HUMAN' as const,
      sourceId: 'u',
      error: '',
      metadata: {},
    };
    await assessments.create({ ...base, name: 'one', value: true });
    await assessments.create({ ...base, name: 'two', value: false });
    expect((await assessments.list('carry', base.traceId)).map((a) => a.name).sort()).toEqual(['one', 'two']);
  });
});
